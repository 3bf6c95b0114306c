// Incident rules. Each rule looks at one frame and says which conditions hold right now (after its
// own "for T seconds" persistence); the IncidentManager turns conditions into incident.opened /
// incident.updated / incident.closed events, closing an incident only after its condition has been
// false for clearSeconds and updating at most every updateSeconds.
import type { IncidentRulesConfig } from '../config/schema.js';
import type { DomainEvent, IncidentCloseReason, IncidentKind, Point } from '../core/types.js';
import type { IncidentData } from '../core/event-data.js';
import { dot, norm, sub, unit } from './geometry.js';
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

/**
 * A vehicle in a carriageway zone slower than the threshold for minSeconds (longer for classes that
 * wait by habit, e.g. buses), unless it stands in a parking or bus-stop zone.
 */
export class StoppedVehicleRule implements IncidentRule {
  readonly kind = 'stopped-vehicle' as const;
  private readonly p = new Persistence(GRACE_MS);
  private readonly lastActive = new Map<number, ActiveCondition>();
  constructor(private readonly cfg: IncidentRulesConfig['stoppedVehicle'], private readonly zones: readonly ZoneShape[]) {}

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
      const z = this.exempt(tv) ? null : carriagewayOf(tv, this.zones);
      const calibrated = ctx.groundOfRel !== null && tv.speedKmh !== null;
      const speed = calibrated ? tv.speedKmh : tv.speedPxPerSec;
      const max = calibrated ? this.cfg.maxSpeedKmh : this.cfg.maxSpeedPxPerSec;
      const slow = z !== null && speed !== null && speed <= max;
      const key = String(tv.id);
      const since = this.p.step(key, slow, ctx.tMs);
      const wait = this.cfg.minSecondsByClass[tv.cls] ?? this.cfg.minSeconds;
      if (since !== null && z && (ctx.tMs - since) / 1000 >= wait) {
        const c: ActiveCondition = {
          key: `stopped-vehicle:${tv.id}`,
          kind: this.kind,
          zoneId: z.id,
          trackIds: [tv.id],
          sinceMs: since,
          measures: {
            stoppedSeconds: round((ctx.tMs - since) / 1000, 1),
            ...(calibrated ? { speedKmh: round(speed as number, 1) } : { speedPxPerSec: round(speed as number, 1) }),
          },
        };
        this.lastActive.set(tv.id, c);
        out.push(c);
      } else {
        this.lastActive.delete(tv.id);
      }
    }
    return out;
  }

  private exempt(tv: TrackView): boolean {
    return this.zones.some((z) => STOPPING_ALLOWED.has(z.kind) && tv.zones.includes(z.id));
  }

  forget(ids: readonly number[]): void {
    for (const id of ids) {
      this.p.delete(String(id));
      this.lastActive.delete(id);
    }
  }
  stateSize(): number {
    return this.p.size() + this.lastActive.size;
  }
}

/**
 * A vehicle moving against a zone's lane direction over a minimum distance. Progress along the lane
 * is accumulated step by step (in metres with calibration, else relative units); the rule fires when
 * the track is minDistance behind the furthest point it reached along the lane and the straight
 * line from that point to where it is now points against the lane, so jitter and a car waiting in
 * place never add up to a wrong-way trip.
 */
export class WrongWayRule implements IncidentRule {
  readonly kind = 'wrong-way' as const;
  private readonly state = new Map<string, { s: number; maxS: number; ref: Point; prev: Point; sinceMs: number | null }>();
  constructor(private readonly cfg: IncidentRulesConfig['wrongWay'], private readonly zones: readonly ZoneShape[]) {}

  evaluate(ctx: FrameContext): ActiveCondition[] {
    const out: ActiveCondition[] = [];
    const lanes = this.zones.filter((z) => z.laneDirection !== null);
    for (const tv of ctx.tracks) {
      if (!tv.isVehicle || tv.status !== 'confirmed') continue;
      for (const z of lanes) {
        const key = `${tv.id}|${z.id}`;
        if (!tv.zones.includes(z.id)) {
          this.state.delete(key);
          continue;
        }
        const g = ctx.groundOfRel;
        const pos = g ? tv.ground : tv.anchorRel;
        if (!pos) continue;
        const lane = laneAt(tv.anchorRel, z.laneDirection as Point, g);
        if (!lane) continue;
        let st = this.state.get(key);
        if (!st) {
          st = { s: 0, maxS: 0, ref: pos, prev: pos, sinceMs: null };
          this.state.set(key, st);
        }
        st.s += dot(sub(pos, st.prev), lane);
        st.prev = pos;
        if (st.s >= st.maxS) {
          st.maxS = st.s;
          st.ref = pos;
        }
        const back = st.maxS - st.s;
        const travel = sub(pos, st.ref);
        const cos = norm(travel) > 0 ? dot(unit(travel), lane) : 1;
        const minDist = g ? this.cfg.minDistanceM : this.cfg.minDistanceRel;
        if (back >= minDist && cos <= this.cfg.maxCosine) {
          st.sinceMs ??= ctx.tMs;
          out.push({
            key: `wrong-way:${tv.id}:${z.id}`,
            kind: this.kind,
            zoneId: z.id,
            trackIds: [tv.id],
            sinceMs: st.sinceMs,
            measures: {
              ...(g ? { distanceM: round(back, 1) } : { distanceRel: round(back, 3) }),
              ...(tv.speedKmh !== null ? { speedKmh: round(tv.speedKmh, 1) } : {}),
            },
          });
        } else {
          st.sinceMs = null;
        }
      }
    }
    return out;
  }

  forget(ids: readonly number[]): void {
    const set = new Set(ids.map(String));
    for (const k of this.state.keys()) if (set.has(k.split('|')[0] ?? k)) this.state.delete(k);
  }
  stateSize(): number {
    return this.state.size;
  }
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

/** Many slow vehicles in a carriageway zone for minSeconds; length in metres when calibrated. */
export class QueueRule implements IncidentRule {
  readonly kind = 'queue' as const;
  private readonly p = new Persistence(GRACE_MS);
  constructor(private readonly cfg: IncidentRulesConfig['queue'], private readonly zones: readonly ZoneShape[]) {}

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
      if (since === null || (ctx.tMs - since) / 1000 < this.cfg.minSeconds || !cond) continue;
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
  ) {}

  step(ctx: FrameContext): DomainEvent<IncidentData>[] {
    const events: DomainEvent<IncidentData>[] = [];
    const seen = new Set<string>();
    for (const rule of this.rules) {
      for (const c of rule.evaluate(ctx)) {
        seen.add(c.key);
        const inc = this.open.get(c.key);
        if (!inc) {
          const id = `${this.cameraId}:${c.kind}:${c.sinceMs}:${++this.seq}`;
          const o: OpenIncident = { id, cond: c, lastTrueMs: ctx.tMs, lastEmitMs: ctx.tMs, revision: 0 };
          this.open.set(c.key, o);
          events.push(this.event('incident.opened', o, ctx.tMs, null));
        } else {
          inc.cond = { ...c, sinceMs: inc.cond.sinceMs };
          inc.lastTrueMs = ctx.tMs;
          if (ctx.tMs - inc.lastEmitMs >= this.updateSeconds * 1000) {
            inc.lastEmitMs = ctx.tMs;
            events.push(this.event('incident.updated', inc, ctx.tMs, null));
          }
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
    return this.open.size + this.rules.reduce((s, r) => s + r.stateSize(), 0);
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
        ...(closeReason ? { closeReason } : {}),
      },
    };
  }
}
