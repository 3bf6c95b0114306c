// Incident rules. Each rule looks at one frame and says which conditions hold right now (after its
// own "for T seconds" persistence); the IncidentManager turns conditions into incident.opened /
// incident.updated / incident.closed events, closing an incident only after its condition has been
// false for clearSeconds and updating at most every updateSeconds.
import type { IncidentRulesConfig } from '../config/schema.js';
import type { CollisionCue, DomainEvent, IncidentCloseReason, IncidentKind, IncidentSeverity, Point } from '../core/types.js';
import type { IncidentData } from '../core/event-data.js';
import { dot, norm, sub, unit } from './geometry.js';
import { boxSizePx, type TrafficState } from './incidents-traffic.js';
import type { FrameContext, TrackView } from './types.js';
import type { ZoneShape } from './zones.js';

/** A condition that holds in this frame. */
export interface ActiveCondition {
  /** Stable key: the same key across frames is the same incident. */
  key: string;
  kind: IncidentKind;
  zoneId: string | null;
  trackIds: number[];
  /** When the condition began (before the persistence time elapsed). */
  sinceMs: number;
  measures: Record<string, number>;
  /** Absent: the kind's default. */
  severity?: IncidentSeverity;
  collisionCue?: CollisionCue;
}

export interface IncidentRule {
  readonly kind: IncidentKind;
  evaluate(ctx: FrameContext): ActiveCondition[];
  /** The tracker dropped these tracks. */
  forget(trackIds: readonly number[]): void;
  stateSize(): number;
}

/** Tracks how long a condition has held, tolerating gaps shorter than graceMs (one noisy frame). */
class Persistence {
  private since = new Map<string, { sinceMs: number; lastTrueMs: number }>();
  constructor(private readonly graceMs: number) {}
  /** Returns the time the condition began, or null if it does not hold. */
  step(key: string, cond: boolean, tMs: number): number | null {
    const s = this.since.get(key);
    if (cond) {
      if (!s || tMs - s.lastTrueMs > this.graceMs) {
        this.since.set(key, { sinceMs: tMs, lastTrueMs: tMs });
        return tMs;
      }
      s.lastTrueMs = tMs;
      return s.sinceMs;
    }
    if (s && tMs - s.lastTrueMs > this.graceMs) this.since.delete(key);
    return null;
  }
  held(key: string, tMs: number): number {
    const s = this.since.get(key);
    return s ? (tMs - s.sinceMs) / 1000 : 0;
  }
  delete(key: string): void {
    this.since.delete(key);
  }
  deleteWhere(pred: (key: string) => boolean): void {
    for (const k of this.since.keys()) if (pred(k)) this.since.delete(k);
  }
  size(): number {
    return this.since.size;
  }
}

const GRACE_MS = 1000;
const round = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;

function carriagewayOf(tv: TrackView, zones: readonly ZoneShape[]): ZoneShape | null {
  for (const z of zones) if (z.kind === 'carriageway' && tv.zones.includes(z.id)) return z;
  return null;
}

/** Zones where stopping is normal: a vehicle stopped there is parked or at its stop, not an incident. */
const STOPPING_ALLOWED: ReadonlySet<string> = new Set(['parking', 'bus-stop']);

/** People first seen near a stopped vehicle after it stopped (drivers getting out, helpers): ids kept per vehicle. */
export class PeopleAround {
  private readonly seen = new Map<number, Set<number>>();
  constructor(private readonly radiusLengths: number) {}
  count(ctx: FrameContext, vehicles: readonly TrackView[], sinceMs: number, key: number): number {
    let set = this.seen.get(key);
    for (const p of ctx.tracks) {
      if (p.cls !== 'person' || p.status !== 'confirmed' || p.firstSeenMs < sinceMs) continue;
      const near = vehicles.some((v) => norm(sub(p.anchorPx, v.anchorPx)) <= this.radiusLengths * boxSizePx(v.boxPx));
      if (!near) continue;
      if (!set) {
        set = new Set();
        this.seen.set(key, set);
      }
      set.add(p.id);
    }
    return set?.size ?? 0;
  }
  forget(key: number): void {
    this.seen.delete(key);
  }
  size(): number {
    return this.seen.size;
  }
}

/**
 * A vehicle stopped where stopping is not normal, for long enough. Normal: in a parking or bus-stop
 * zone; waiting at a stop line; in the queue behind another stopped vehicle (the queue's head is the
 * one incident, the vehicles behind it are counted in its `queueBehind`). A vehicle that stopped
 * suddenly from speed is flagged after suddenStopSeconds; one in a no-stopping zone after
 * noStoppingSeconds, queue or not; the gently stopped head of a queue with no stop line drawn (an
 * undrawn signal, most likely) after queueHeadSeconds; others after minSeconds (per class).
 */
export class StoppedVehicleRule implements IncidentRule {
  readonly kind = 'stopped-vehicle' as const;
  private readonly lastActive = new Map<number, ActiveCondition>();
  private readonly people: PeopleAround;
  constructor(
    private readonly cfg: IncidentRulesConfig['stoppedVehicle'],
    private readonly zones: readonly ZoneShape[],
    private readonly traffic: TrafficState,
    peopleRadiusLengths = 3,
  ) {
    this.people = new PeopleAround(peopleRadiusLengths);
  }

  evaluate(ctx: FrameContext): ActiveCondition[] {
    const out: ActiveCondition[] = [];
    for (const tv of ctx.tracks) {
      if (!tv.isVehicle) continue;
      if (tv.status === 'lost') {
        // An undetected stopped vehicle is usually still there: hold its incident while lost.
        const held = this.lastActive.get(tv.id);
        if (held) out.push(held);
        continue;
      }
      const c = this.condition(ctx, tv);
      if (c) {
        this.lastActive.set(tv.id, c);
        out.push(c);
      } else {
        this.lastActive.delete(tv.id);
      }
    }
    return out;
  }

  private condition(ctx: FrameContext, tv: TrackView): ActiveCondition | null {
    const stop = this.traffic.stopOf(tv.id);
    if (!stop) return null;
    const noStopping = this.zones.find((z) => z.kind === 'no-stopping' && tv.zones.includes(z.id)) ?? null;
    const z = noStopping ?? (this.exempt(tv) ? null : carriagewayOf(tv, this.zones));
    if (!z) return null;
    if (!noStopping && this.traffic.wasQueued(tv.id, ctx.tMs)) return null;
    const speed = this.traffic.speedOf(ctx, tv);
    // Slow now, not only within the stop's grace (a bus pulling out of its bay is leaving).
    if (speed !== null && speed > this.traffic.maxSpeed(ctx, tv)) return null;
    const head = this.traffic.queueOf(tv.id)?.role === 'queue-head';
    const wait = noStopping
      ? this.cfg.noStoppingSeconds
      : stop.sudden
        ? Math.min(this.cfg.suddenStopSeconds, this.classWait(tv))
        : head
          ? Math.max(this.cfg.queueHeadSeconds, this.classWait(tv))
          : this.classWait(tv);
    const stoppedSeconds = (ctx.tMs - stop.sinceMs) / 1000;
    if (stoppedSeconds < wait) return null;
    const calibrated = ctx.groundOfRel !== null && tv.speedKmh !== null;
    const people = this.people.count(ctx, [tv], stop.sinceMs, tv.id);
    return {
      key: `stopped-vehicle:${tv.id}`,
      kind: this.kind,
      zoneId: z.id,
      trackIds: [tv.id],
      sinceMs: stop.sinceMs,
      severity: people > 0 ? 'high' : 'medium',
      measures: {
        stoppedSeconds: round(stoppedSeconds, 1),
        ...(speed === null ? {} : calibrated ? { speedKmh: round(speed, 1) } : { speedPxPerSec: round(speed, 1) }),
        suddenStop: stop.sudden ? 1 : 0,
        queueBehind: this.traffic.queuedBehind(tv.id).length,
        peopleAround: people,
      },
    };
  }

  private classWait(tv: TrackView): number {
    return this.cfg.minSecondsByClass[tv.cls] ?? this.cfg.minSeconds;
  }

  private exempt(tv: TrackView): boolean {
    return this.zones.some((z) => STOPPING_ALLOWED.has(z.kind) && tv.zones.includes(z.id));
  }

  forget(ids: readonly number[]): void {
    for (const id of ids) {
      this.lastActive.delete(id);
      this.people.forget(id);
    }
  }
  stateSize(): number {
    return this.lastActive.size + this.people.size();
  }
}

interface WrongWayTrack {
  /** Recent raw positions (ground m or relative units) for the moving average. */
  raw: Array<{ tMs: number; pos: Point }>;
  /** Last raw anchor (px) and the smoothed velocity (px/s), for the jump check. */
  lastPx: Point;
  lastMs: number;
  velPx: Point;
  /** Per lane zone: progress along the lane of the smoothed position. */
  lanes: Map<string, { s: number; maxS: number; ref: Point; refMs: number; prev: Point; sinceMs: number | null }>;
}

/**
 * A vehicle (any class, bicycles included) moving against a zone's lane direction, on its smoothed
 * trajectory, over a minimum distance and for a minimum time. Progress along the lane is accumulated
 * step by step; the rule fires when the track is minDistance behind the furthest point it reached,
 * at least minSeconds after it was there, and the straight line from that point points against the
 * lane. A step far from where the track's own motion predicts (an identity swap onto another vehicle,
 * a re-acquired track) is no movement: the evidence starts over from there.
 */
export class WrongWayRule implements IncidentRule {
  readonly kind = 'wrong-way' as const;
  private readonly state = new Map<number, WrongWayTrack>();
  constructor(private readonly cfg: IncidentRulesConfig['wrongWay'], private readonly zones: readonly ZoneShape[]) {}

  evaluate(ctx: FrameContext): ActiveCondition[] {
    const out: ActiveCondition[] = [];
    const lanes = this.zones.filter((z) => z.laneDirection !== null);
    if (lanes.length === 0) return out;
    const g = ctx.groundOfRel;
    for (const tv of ctx.tracks) {
      if (!tv.isVehicle || tv.status !== 'confirmed') continue;
      const pos = g ? tv.ground : tv.anchorRel;
      if (!pos) continue;
      const st = this.track(tv, ctx.tMs, pos);
      const smooth = mean2(st.raw.map((r) => r.pos));
      for (const z of lanes) {
        if (!tv.zones.includes(z.id)) {
          st.lanes.delete(z.id);
          continue;
        }
        const lane = laneAt(tv.anchorRel, z.laneDirection as Point, g);
        if (!lane) continue;
        let ls = st.lanes.get(z.id);
        if (!ls) {
          ls = { s: 0, maxS: 0, ref: smooth, refMs: ctx.tMs, prev: smooth, sinceMs: null };
          st.lanes.set(z.id, ls);
        }
        ls.s += dot(sub(smooth, ls.prev), lane);
        ls.prev = smooth;
        if (ls.s >= ls.maxS) {
          ls.maxS = ls.s;
          ls.ref = smooth;
          ls.refMs = ctx.tMs;
        }
        const back = ls.maxS - ls.s;
        const travel = sub(smooth, ls.ref);
        const cos = norm(travel) > 0 ? dot(unit(travel), lane) : 1;
        const minDist = g ? this.cfg.minDistanceM : this.cfg.minDistanceRel;
        const seconds = (ctx.tMs - ls.refMs) / 1000;
        if (back >= minDist && cos <= this.cfg.maxCosine && seconds >= this.cfg.minSeconds && this.atDrivingPace(travel, seconds, tv, ctx, g !== null)) {
          ls.sinceMs ??= ls.refMs;
          out.push({
            key: `wrong-way:${tv.id}:${z.id}`,
            kind: this.kind,
            zoneId: z.id,
            trackIds: [tv.id],
            sinceMs: ls.sinceMs,
            measures: {
              ...(g ? { distanceM: round(back, 1) } : { distanceRel: round(back, 3) }),
              seconds: round(seconds, 1),
              ...(tv.speedKmh !== null ? { speedKmh: round(tv.speedKmh, 1) } : {}),
            },
          });
        } else if (back < minDist / 2) {
          ls.sinceMs = null;
        }
      }
    }
    return out;
  }

  /** Mean speed of `travel` (ground metres, or relative frame units) over `seconds` is a driving pace. */
  private atDrivingPace(travel: Point, seconds: number, tv: TrackView, ctx: FrameContext, calibrated: boolean): boolean {
    if (seconds <= 0) return false;
    if (calibrated) return (norm(travel) / seconds) * 3.6 >= this.cfg.minSpeedKmh;
    const lengthPx = Math.max(tv.boxPx.w, tv.boxPx.h, 1);
    const px = Math.hypot(travel.x * ctx.width, travel.y * ctx.height);
    return px / lengthPx / seconds >= this.cfg.minLengthsPerSec;
  }

  /** The track's state after this frame's position; reset when the step is a jump. */
  private track(tv: TrackView, tMs: number, pos: Point): WrongWayTrack {
    const fresh = (): WrongWayTrack => ({ raw: [{ tMs, pos }], lastPx: tv.anchorPx, lastMs: tMs, velPx: { x: 0, y: 0 }, lanes: new Map() });
    const st = this.state.get(tv.id);
    if (!st) {
      const n = fresh();
      this.state.set(tv.id, n);
      return n;
    }
    const dt = Math.max(0, (tMs - st.lastMs) / 1000);
    const predicted = { x: st.lastPx.x + st.velPx.x * dt, y: st.lastPx.y + st.velPx.y * dt };
    if (norm(sub(tv.anchorPx, predicted)) > this.cfg.maxJumpLengths * boxSizePx(tv.boxPx)) {
      const n = fresh();
      this.state.set(tv.id, n);
      return n;
    }
    if (dt > 0) {
      const v = { x: (tv.anchorPx.x - st.lastPx.x) / dt, y: (tv.anchorPx.y - st.lastPx.y) / dt };
      // Smoothed velocity: a few frames' memory, so one noisy box does not set the prediction.
      const a = Math.min(1, dt / 0.5);
      st.velPx = st.raw.length < 2 ? v : { x: st.velPx.x + a * (v.x - st.velPx.x), y: st.velPx.y + a * (v.y - st.velPx.y) };
    }
    st.lastPx = tv.anchorPx;
    st.lastMs = tMs;
    st.raw.push({ tMs, pos });
    while (st.raw.length > 1 && (st.raw[0]?.tMs ?? tMs) < tMs - this.cfg.smoothSeconds * 1000) st.raw.shift();
    return st;
  }

  forget(ids: readonly number[]): void {
    for (const id of ids) this.state.delete(id);
  }
  stateSize(): number {
    return this.state.size;
  }
}

function mean2(ps: readonly Point[]): Point {
  let x = 0;
  let y = 0;
  for (const p of ps) {
    x += p.x;
    y += p.y;
  }
  return ps.length ? { x: x / ps.length, y: y / ps.length } : { x: 0, y: 0 };
}

/** Unit lane direction at a point: in relative coordinates, or mapped onto the ground plane. */
function laneAt(rel: Point, dir: Point, g: ((rel: Point) => Point | null) | null): Point | null {
  if (!g) return dir;
  const eps = 0.01;
  const a = g(rel);
  const b = g({ x: rel.x + eps * dir.x, y: rel.y + eps * dir.y });
  if (!a || !b) return null;
  const d = sub(b, a);
  return norm(d) > 0 ? unit(d) : null;
}

/**
 * Many slow vehicles in a carriageway zone for minSeconds; length in metres when calibrated. A queue
 * waiting at a stop line is normal for a signal cycle (atStopLineSeconds).
 */
export class QueueRule implements IncidentRule {
  readonly kind = 'queue' as const;
  private readonly p = new Persistence(GRACE_MS);
  constructor(
    private readonly cfg: IncidentRulesConfig['queue'],
    private readonly zones: readonly ZoneShape[],
    private readonly traffic: TrafficState | null = null,
  ) {}

  evaluate(ctx: FrameContext): ActiveCondition[] {
    const out: ActiveCondition[] = [];
    for (const z of this.zones) {
      if (z.kind !== 'carriageway') continue;
      const inZone = ctx.tracks.filter((tv) => tv.isVehicle && tv.status === 'confirmed' && tv.zones.includes(z.id));
      const calibrated = ctx.groundOfRel !== null;
      const speeds = inZone.map((tv) => (calibrated ? tv.speedKmh : tv.speedPxPerSec)).filter((s): s is number => s !== null);
      const meanSpeed = speeds.length ? speeds.reduce((a, b) => a + b, 0) / speeds.length : null;
      const max = calibrated ? this.cfg.maxMeanSpeedKmh : this.cfg.maxMeanSpeedPxPerSec;
      // Speeds must be known for at least half the vehicles, or "slow" is a guess.
      const cond =
        inZone.length >= this.cfg.minOccupancy && meanSpeed !== null && speeds.length * 2 >= inZone.length && meanSpeed <= max;
      const since = this.p.step(z.id, cond, ctx.tMs);
      const atSignal = inZone.some((tv) => this.traffic?.queueOf(tv.id)?.role === 'at-stop-line');
      const wait = atSignal ? Math.max(this.cfg.minSeconds, this.cfg.atStopLineSeconds) : this.cfg.minSeconds;
      if (since === null || (ctx.tMs - since) / 1000 < wait || !cond) continue;
      const measures: Record<string, number> = {
        occupancy: inZone.length,
        ...(calibrated ? { meanSpeedKmh: round(meanSpeed as number, 1) } : { meanSpeedPxPerSec: round(meanSpeed as number, 1) }),
        queueSeconds: round((ctx.tMs - since) / 1000, 1),
      };
      if (calibrated) {
        const len = queueLength(inZone, z, ctx.groundOfRel as (rel: Point) => Point | null);
        if (len !== null) measures.queueLengthM = round(len, 1);
      }
      out.push({ key: `queue:${z.id}`, kind: this.kind, zoneId: z.id, trackIds: inZone.map((t) => t.id).sort((a, b) => a - b), sinceMs: since, measures });
    }
    return out;
  }

  forget(): void {}
  stateSize(): number {
    return this.p.size();
  }
}

/** Extent of the queued vehicles' ground anchors along the lane (or their largest spread). */
function queueLength(tracks: TrackView[], z: ZoneShape, g: (rel: Point) => Point | null): number | null {
  const pts = tracks.map((t) => t.ground).filter((p): p is Point => p !== null);
  if (pts.length < 2) return null;
  const [first] = tracks;
  const lane = z.laneDirection && first ? laneAt(first.anchorRel, z.laneDirection, g) : null;
  if (lane) {
    const s = pts.map((p) => dot(p, lane));
    return Math.max(...s) - Math.min(...s);
  }
  let best = 0;
  for (const [i, a] of pts.entries()) for (const b of pts.slice(i + 1)) best = Math.max(best, norm(sub(a, b)));
  return best;
}

/** A person whose anchor is in a carriageway zone (and not on a sidewalk zone) for minSeconds. */
export class PedestrianOnCarriagewayRule implements IncidentRule {
  readonly kind = 'pedestrian-on-carriageway' as const;
  private readonly p = new Persistence(GRACE_MS);
  constructor(private readonly cfg: IncidentRulesConfig['pedestrian'], private readonly zones: readonly ZoneShape[]) {}

  evaluate(ctx: FrameContext): ActiveCondition[] {
    const out: ActiveCondition[] = [];
    const sidewalks = new Set(this.zones.filter((z) => z.kind === 'sidewalk').map((z) => z.id));
    for (const tv of ctx.tracks) {
      if (tv.cls !== 'person' || tv.status !== 'confirmed') continue;
      const z = carriagewayOf(tv, this.zones);
      const onSidewalk = tv.zones.some((id) => sidewalks.has(id));
      const since = this.p.step(String(tv.id), z !== null && !onSidewalk, ctx.tMs);
      if (since === null || !z || onSidewalk || (ctx.tMs - since) / 1000 < this.cfg.minSeconds) continue;
      out.push({
        key: `pedestrian-on-carriageway:${tv.id}`,
        kind: this.kind,
        zoneId: z.id,
        trackIds: [tv.id],
        sinceMs: since,
        measures: { seconds: round((ctx.tMs - since) / 1000, 1) },
      });
    }
    return out;
  }

  forget(ids: readonly number[]): void {
    for (const id of ids) this.p.delete(String(id));
  }
  stateSize(): number {
    return this.p.size();
  }
}

interface OpenIncident {
  id: string;
  cond: ActiveCondition;
  lastTrueMs: number;
  lastEmitMs: number;
  /** Events emitted so far (the record version). */
  revision: number;
}

export interface OpenIncidentSummary {
  incidentId: string;
  kind: IncidentKind;
  zoneId: string | null;
  startedAt: string;
}

export class IncidentManager {
  private readonly open = new Map<string, OpenIncident>();
  private seq = 0;
  constructor(
    private readonly cameraId: string,
    private readonly rules: readonly IncidentRule[],
    private readonly clearSeconds: number,
    private readonly updateSeconds: number,
    /** The traffic picture the rules share, fed before they run. */
    private readonly traffic: TrafficState | null = null,
  ) {}

  step(ctx: FrameContext): DomainEvent<IncidentData>[] {
    const events: DomainEvent<IncidentData>[] = [];
    const seen = new Set<string>();
    this.traffic?.observe(ctx);
    const conds = this.rules.flatMap((rule) => rule.evaluate(ctx));
    // A vehicle in a collision is that incident, not also a stopped vehicle.
    const inCollision = new Set(conds.filter((c) => c.kind === 'collision').flatMap((c) => c.trackIds));
    for (const c of conds) {
      if (c.kind === 'stopped-vehicle' && c.trackIds.some((id) => inCollision.has(id))) continue;
      seen.add(c.key);
      const inc = this.open.get(c.key);
      if (!inc) {
        const id = `${this.cameraId}:${c.kind}:${c.sinceMs}:${++this.seq}`;
        const o: OpenIncident = { id, cond: c, lastTrueMs: ctx.tMs, lastEmitMs: ctx.tMs, revision: 0 };
        this.open.set(c.key, o);
        events.push(this.event('incident.opened', o, ctx.tMs, null));
      } else {
        // A raised severity (people appeared) is news now, not at the next periodic update.
        const raised = c.severity !== inc.cond.severity;
        inc.cond = { ...c, sinceMs: inc.cond.sinceMs };
        inc.lastTrueMs = ctx.tMs;
        if (raised || ctx.tMs - inc.lastEmitMs >= this.updateSeconds * 1000) {
          inc.lastEmitMs = ctx.tMs;
          events.push(this.event('incident.updated', inc, ctx.tMs, null));
        }
      }
    }
    for (const [key, inc] of this.open) {
      if (seen.has(key)) continue;
      if (ctx.tMs - inc.lastTrueMs >= this.clearSeconds * 1000) {
        this.open.delete(key);
        events.push(this.event('incident.closed', inc, ctx.tMs, inc.lastTrueMs, 'cleared'));
      }
    }
    return events;
  }

  /** Close everything (the camera stops being watched). */
  closeAll(nowMs: number, reason: IncidentCloseReason = 'stopped'): DomainEvent<IncidentData>[] {
    const events = [...this.open.values()].map((inc) => this.event('incident.closed', inc, nowMs, Math.min(nowMs, inc.lastTrueMs), reason));
    this.open.clear();
    return events;
  }

  forget(ids: readonly number[]): void {
    for (const r of this.rules) r.forget(ids);
    this.traffic?.forget(ids);
  }

  openIncidents(): OpenIncidentSummary[] {
    return [...this.open.values()].map((o) => ({
      incidentId: o.id,
      kind: o.cond.kind,
      zoneId: o.cond.zoneId,
      startedAt: new Date(o.cond.sinceMs).toISOString(),
    }));
  }

  stateSize(): number {
    return this.open.size + this.rules.reduce((s, r) => s + r.stateSize(), 0) + (this.traffic?.size() ?? 0);
  }

  private event(
    type: 'incident.opened' | 'incident.updated' | 'incident.closed',
    inc: OpenIncident,
    tMs: number,
    endedMs: number | null,
    closeReason?: IncidentCloseReason,
  ): DomainEvent<IncidentData> {
    inc.revision++;
    return {
      type,
      cameraId: this.cameraId,
      timeMs: tMs,
      data: {
        incidentId: inc.id,
        cameraId: this.cameraId,
        kind: inc.cond.kind,
        zoneId: inc.cond.zoneId,
        trackIds: [...inc.cond.trackIds],
        startedAt: new Date(inc.cond.sinceMs).toISOString(),
        endedAt: endedMs === null ? null : new Date(endedMs).toISOString(),
        measures: { ...inc.cond.measures },
        revision: inc.revision,
        ...(inc.cond.severity ? { severity: inc.cond.severity } : {}),
        ...(inc.cond.collisionCue ? { collisionCue: inc.cond.collisionCue } : {}),
        ...(closeReason ? { closeReason } : {}),
      },
    };
  }
}
