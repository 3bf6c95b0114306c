// Zone occupancy, entries/exits and dwell time, and turning movements (origin zone → destination
// zone). Membership of a track in a zone changes only after `debounceFrames` consecutive frames on
// the new side, so a box flickering on a polygon edge does not count as several entries.
import type { ZoneConfig } from '../config/schema.js';
import type { DomainEvent, ObjectClass, Point } from '../core/types.js';
import type { MovementIntervalData, ZoneIntervalData } from '../core/event-data.js';
import { binFields, type Bin } from './bins.js';
import { pointInPolygon } from './geometry.js';
import type { TrackView } from './types.js';
import { zoneProblem } from '../core/geometry-rules.js';

export class ZoneShape {
  readonly id: string;
  readonly kind: ZoneConfig['kind'];
  readonly polygon: Point[];
  /** Lane direction in relative coordinates (normalised), if configured. */
  readonly laneDirection: Point | null;
  constructor(cfg: ZoneConfig) {
    const problem = zoneProblem(cfg);
    if (problem) throw new RangeError(problem.message);
    this.id = cfg.id;
    this.kind = cfg.kind ?? 'area';
    this.polygon = cfg.polygon.map((p) => ({ x: p.x, y: p.y }));
    const ld = cfg.laneDirection;
    const n = ld ? Math.hypot(ld.x, ld.y) : 0;
    if (ld && n < 1e-9) throw new RangeError(`zone '${cfg.id}': laneDirection must not be zero`);
    this.laneDirection = ld ? { x: ld.x / n, y: ld.y / n } : null;
  }
  contains(rel: Point): boolean {
    return pointInPolygon(rel, this.polygon);
  }
}

interface Membership {
  inside: boolean;
  enteredMs: number;
  lastSeenMs: number;
  pending: number;
  pendingSinceMs: number;
}

interface ZoneAcc {
  entries: number;
  exits: number;
  frames: number;
  occupancySum: number;
  maxOccupancy: number;
  dwells: number[];
}

const newAcc = (): ZoneAcc => ({ entries: 0, exits: 0, frames: 0, occupancySum: 0, maxOccupancy: 0, dwells: [] });

export interface ZoneTransition {
  zoneId: string;
  trackId: number;
  kind: 'entry' | 'exit';
  tMs: number;
  dwellSeconds?: number;
}

export class ZoneCounter {
  private readonly members = new Map<number, Membership>();
  private readonly acc = new Map<number, ZoneAcc>();
  private occupancy = 0;

  constructor(readonly zone: ZoneShape, private readonly debounceFrames = 2) {}

  /** Feed every track of a frame (confirmed and lost); lost tracks keep their membership. */
  observeFrame(tracks: TrackView[], tMs: number): ZoneTransition[] {
    const out: ZoneTransition[] = [];
    let occ = 0;
    for (const tv of tracks) {
      let m = this.members.get(tv.id);
      if (tv.status === 'confirmed') {
        const inside = tv.zones.includes(this.zone.id);
        if (!m) {
          m = { inside, enteredMs: tMs, lastSeenMs: tMs, pending: 0, pendingSinceMs: tMs };
          this.members.set(tv.id, m);
          if (inside) out.push(this.entry(tv.id, tMs));
        } else if (inside !== m.inside) {
          if (m.pending === 0) m.pendingSinceMs = tMs;
          m.pending++;
          if (m.pending >= this.debounceFrames) {
            m.inside = inside;
            m.pending = 0;
            if (inside) {
              m.enteredMs = m.pendingSinceMs;
              out.push(this.entry(tv.id, m.pendingSinceMs));
            } else {
              out.push(this.exit(tv.id, m.pendingSinceMs, m.enteredMs));
            }
          }
        } else {
          m.pending = 0;
        }
        m.lastSeenMs = tMs;
      }
      if (m?.inside) occ++;
    }
    this.occupancy = occ;
    for (const a of this.acc.values()) {
      a.frames++;
      a.occupancySum += occ;
      a.maxOccupancy = Math.max(a.maxOccupancy, occ);
    }
    return out;
  }

  /** A track disappeared: if it was inside, it exits where it was last seen. */
  endTrack(id: number): ZoneTransition | null {
    const m = this.members.get(id);
    this.members.delete(id);
    if (!m?.inside) return null;
    return this.exit(id, m.lastSeenMs, m.enteredMs);
  }

  private entry(trackId: number, tMs: number): ZoneTransition {
    for (const a of this.acc.values()) a.entries++;
    return { zoneId: this.zone.id, trackId, kind: 'entry', tMs };
  }

  private exit(trackId: number, tMs: number, enteredMs: number): ZoneTransition {
    const dwellSeconds = Math.max(0, (tMs - enteredMs) / 1000);
    for (const a of this.acc.values()) {
      a.exits++;
      a.dwells.push(dwellSeconds);
    }
    return { zoneId: this.zone.id, trackId, kind: 'exit', tMs, dwellSeconds };
  }

  openBin(binSeconds: number): void {
    if (!this.acc.has(binSeconds)) this.acc.set(binSeconds, newAcc());
  }

  closeBin(cameraId: string, bin: Bin): DomainEvent<ZoneIntervalData> {
    const a = this.acc.get(bin.binSeconds) ?? newAcc();
    this.acc.delete(bin.binSeconds);
    const meanDwell = a.dwells.length ? a.dwells.reduce((s, v) => s + v, 0) / a.dwells.length : null;
    return {
      type: 'zone.interval',
      cameraId,
      timeMs: bin.endMs,
      data: {
        ...binFields(cameraId, bin),
        zoneId: this.zone.id,
        entries: a.entries,
        exits: a.exits,
        meanOccupancy: a.frames ? a.occupancySum / a.frames : 0,
        maxOccupancy: a.maxOccupancy,
        meanDwellSeconds: meanDwell,
      },
    };
  }

  currentOccupancy(): number {
    return this.occupancy;
  }

  stateSize(): number {
    return this.members.size;
  }
}

/**
 * Turning movements between the 'area' zones of a camera (approach and exit arms): the origin is
 * the first area zone a track entered, the destination the last different one; counted when the
 * track ends. Carriageway and sidewalk zones are for the incident rules and take no part.
 */
export class MovementCounter {
  private readonly paths = new Map<number, { origin: string; dest: string | null; cls: ObjectClass }>();
  private readonly acc = new Map<number, Map<string, number>>();
  private readonly totals = new Map<string, number>();

  constructor(private readonly areaZoneIds: ReadonlySet<string>) {}

  onEntry(t: ZoneTransition, cls: ObjectClass): void {
    if (!this.areaZoneIds.has(t.zoneId)) return;
    const p = this.paths.get(t.trackId);
    if (!p) this.paths.set(t.trackId, { origin: t.zoneId, dest: null, cls });
    else {
      p.cls = cls;
      if (t.zoneId !== p.origin) p.dest = t.zoneId;
    }
  }

  updateClass(trackId: number, cls: ObjectClass): void {
    const p = this.paths.get(trackId);
    if (p) p.cls = cls;
  }

  endTrack(id: number): { fromZone: string; toZone: string; cls: ObjectClass } | null {
    const p = this.paths.get(id);
    this.paths.delete(id);
    if (!p || p.dest === null) return null;
    const key = `${p.origin}|${p.dest}|${p.cls}`;
    for (const m of this.acc.values()) m.set(key, (m.get(key) ?? 0) + 1);
    this.totals.set(key, (this.totals.get(key) ?? 0) + 1);
    return { fromZone: p.origin, toZone: p.dest, cls: p.cls };
  }

  openBin(binSeconds: number): void {
    if (!this.acc.has(binSeconds)) this.acc.set(binSeconds, new Map());
  }

  closeBin(cameraId: string, bin: Bin): DomainEvent<MovementIntervalData> {
    const m = this.acc.get(bin.binSeconds) ?? new Map<string, number>();
    this.acc.delete(bin.binSeconds);
    const movements = [...m.entries()]
      .map(([k, count]) => {
        const [fromZone, toZone, cls] = k.split('|') as [string, string, ObjectClass];
        return { fromZone, toZone, cls, count };
      })
      .sort((a, b) => `${a.fromZone}|${a.toZone}|${a.cls}`.localeCompare(`${b.fromZone}|${b.toZone}|${b.cls}`));
    return { type: 'movement.interval', cameraId, timeMs: bin.endMs, data: { ...binFields(cameraId, bin), movements } };
  }

  totalsSinceStart(): Array<{ fromZone: string; toZone: string; cls: ObjectClass; count: number }> {
    return [...this.totals.entries()].map(([k, count]) => {
      const [fromZone, toZone, cls] = k.split('|') as [string, string, ObjectClass];
      return { fromZone, toZone, cls, count };
    });
  }

  stateSize(): number {
    return this.paths.size;
  }
}
