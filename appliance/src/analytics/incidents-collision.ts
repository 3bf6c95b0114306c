// Collision: vehicles that stopped sharply (from speed) at about the same time with their boxes in
// contact, or a lone vehicle that stopped sharply across its lane (its last heading far off the lane
// axis), and that stay stopped for confirmSeconds. Vehicles waiting at a stop line or queued behind
// another stopped vehicle that is not part of it are traffic, not a crash. People first seen around
// the vehicles after the stop raise the severity.
import type { IncidentRulesConfig } from '../config/schema.js';
import { dot } from './geometry.js';
import { PeopleAround, type ActiveCondition, type IncidentRule } from './incidents.js';
import { boxGapPx, boxSizePx, type StopInfo, type TrafficState } from './incidents-traffic.js';
import type { FrameContext, TrackView } from './types.js';
import type { ZoneShape } from './zones.js';

/** After confirmSeconds, how long a collision may still open (its vehicles' boxes settling). */
const OPEN_WINDOW_SECONDS = 2;
const round1 = (v: number): number => Math.round(v * 10) / 10;

interface Stopped {
  tv: TrackView;
  stop: StopInfo;
}

export class CollisionRule implements IncidentRule {
  readonly kind = 'collision' as const;
  private readonly people: PeopleAround;
  /** Open collisions by key: their track ids, held while the vehicles stay (lost or not). */
  private readonly active = new Map<string, ActiveCondition>();

  constructor(
    private readonly cfg: IncidentRulesConfig['collision'],
    private readonly zones: readonly ZoneShape[],
    private readonly traffic: TrafficState,
  ) {
    this.people = new PeopleAround(cfg.peopleRadiusLengths);
  }

  evaluate(ctx: FrameContext): ActiveCondition[] {
    const sharp: Stopped[] = [];
    const present = new Map(ctx.tracks.map((t) => [t.id, t]));
    for (const tv of ctx.tracks) {
      if (!tv.isVehicle || !this.onRoad(tv)) continue;
      const stop = this.traffic.stopOf(tv.id);
      if (stop?.sudden) sharp.push({ tv, stop });
    }
    const groups = this.contactGroups(sharp);
    for (const s of sharp) {
      if (groups.some((g) => g.includes(s))) continue;
      // A lone vehicle at an angle that stopped in a queue is jam traffic (and a small far box's heading is noise), not a crash.
      if (s.stop.queuedAtMs === null && this.acrossLane(s)) groups.push([s]);
    }
    const out: ActiveCondition[] = [];
    const keys = new Set<string>();
    for (const g of groups) {
      const ids = g.map((s) => s.tv.id).sort((a, b) => a - b);
      // Traffic: a member waits at a stop line, or behind a stopped vehicle that is not in the group.
      if (g.some((s) => this.queuedOutside(s.tv.id, ids))) continue;
      const lastStop = Math.max(...g.map((s) => s.stop.sinceMs));
      const firstStop = Math.min(...g.map((s) => s.stop.sinceMs));
      const since = (ctx.tMs - lastStop) / 1000;
      if (since < this.cfg.confirmSeconds) continue;
      const key = `collision:${ids.join('-')}`;
      // A crash is seen when it happens: vehicles that stood long apart (a queue releasing) do not start one.
      if (!this.active.has(key) && since > this.cfg.confirmSeconds + OPEN_WINDOW_SECONDS) continue;
      const anchor = ids[0] ?? 0;
      const people = this.people.count(ctx, g.map((s) => s.tv), firstStop, anchor);
      const c: ActiveCondition = {
        key,
        kind: this.kind,
        zoneId: this.zoneOf(g[0]?.tv),
        trackIds: ids,
        sinceMs: firstStop,
        severity: people > 0 ? 'highest' : 'high',
        collisionCue: g.length > 1 ? 'contact' : 'across-lane',
        measures: { vehicles: ids.length, stoppedSeconds: round1((ctx.tMs - firstStop) / 1000), peopleAround: people },
      };
      this.active.set(key, c);
      keys.add(key);
      out.push(c);
    }
    // Hold an open collision while its vehicles stand (or are there but undetected): boxes that
    // jitter apart, or a sharp stop re-measured as gentle, do not end a crash.
    for (const [key, c] of this.active) {
      if (keys.has(key)) continue;
      const standing = c.trackIds.every((id) => {
        const tv = present.get(id);
        return tv !== undefined && (tv.status === 'lost' || this.traffic.stopOf(id) !== null);
      });
      if (standing) out.push({ ...c, measures: { ...c.measures, stoppedSeconds: round1((ctx.tMs - c.sinceMs) / 1000) } });
      else this.active.delete(key);
    }
    return out;
  }

  /** Sharp stops close in time whose boxes touch, joined into groups (union of touching pairs). */
  private contactGroups(sharp: Stopped[]): Stopped[][] {
    const parent = sharp.map((_, i) => i);
    const find = (i: number): number => {
      let r = i;
      while (parent[r] !== r) r = parent[r] ?? r;
      return r;
    };
    const paired = new Set<number>();
    sharp.forEach((a, i) => {
      sharp.forEach((b, j) => {
        if (j <= i) return;
        if (Math.abs(a.stop.sinceMs - b.stop.sinceMs) > this.cfg.pairSeconds * 1000) return;
        const size = Math.min(boxSizePx(a.tv.boxPx), boxSizePx(b.tv.boxPx));
        if (boxGapPx(a.tv.boxPx, b.tv.boxPx) > this.cfg.contactGapLengths * size) return;
        parent[find(j)] = find(i);
        paired.add(i).add(j);
      });
    });
    const groups = new Map<number, Stopped[]>();
    sharp.forEach((s, i) => {
      if (!paired.has(i)) return;
      const r = find(i);
      groups.set(r, [...(groups.get(r) ?? []), s]);
    });
    return [...groups.values()];
  }

  /** Its last heading makes at least acrossLaneDegrees with the lane axis (either way along it). */
  private acrossLane(s: Stopped): boolean {
    const lane = this.traffic.laneOf(s.tv);
    const h = s.stop.heading;
    if (!lane || !h) return false;
    const cos = Math.abs(dot(lane, h));
    return cos <= Math.cos((this.cfg.acrossLaneDegrees * Math.PI) / 180);
  }

  private queuedOutside(id: number, group: readonly number[]): boolean {
    const q = this.traffic.queueOf(id);
    if (!q || q.role === 'queue-head') return false;
    return q.role === 'at-stop-line' || (q.aheadId !== null && !group.includes(q.aheadId));
  }

  private onRoad(tv: TrackView): boolean {
    return this.zones.some((z) => (z.kind === 'carriageway' || z.kind === 'no-stopping') && tv.zones.includes(z.id));
  }

  private zoneOf(tv: TrackView | undefined): string | null {
    if (!tv) return null;
    return this.zones.find((z) => (z.kind === 'carriageway' || z.kind === 'no-stopping') && tv.zones.includes(z.id))?.id ?? null;
  }

  forget(ids: readonly number[]): void {
    for (const id of ids) this.people.forget(id);
    for (const [key, c] of this.active) if (c.trackIds.some((id) => ids.includes(id))) this.active.delete(key);
  }
  stateSize(): number {
    return this.active.size + this.people.size();
  }
}
