// Per-lane traffic data like a loop detector station's: for every lane and interval (20/30/60 s),
// volume by class, time occupancy of a virtual loop, mean and 85th percentile speed, mean headway and
// gap, vehicle length and length class, and the queue length when a queue is detected.
//
// A vehicle belongs to the lane its bottom-centre (ground point) is in. It is "over the loop" while
// its box overlaps the loop polygon: what a viewer sees covering the loop, and what the ground-truth
// masks of a clip measure. Entry and exit are found between frames (linear motion, bisection), so
// times are not rounded to the frame rate. Per vehicle, as a loop detector reports at its off-edge,
// everything (volume, speed, length, headway, gap) goes to the interval in which it left the loop;
// occupancy is split exactly at interval boundaries.
//   headway = front reached the loop − previous vehicle's front reached it
//   gap     = front reached the loop − previous vehicle left it (0 if it had not)
//   length  = speed × time over the loop − loop length (the single-loop length estimate)
// Speed is the track's calibrated ground speed over its time on the loop; without calibration, a loop
// with a measured `lengthM` gives it from the time the front takes to cross the loop.
import type { CountingLineConfig, LaneConfig, LaneSettings } from '../config/schema.js';
import { LENGTH_CLASSES, VEHICLE_CLASSES, type Box, type DataQualityFlag, type DomainEvent, type LengthClass, type ObjectClass, type Point, type TrackStatus } from '../core/types.js';
import type { LaneIntervalData } from '../core/event-data.js';
import { BinClock, binFields, type Bin } from './bins.js';
import { dot, mean, percentile, pointInPolygon, sub, unit } from './geometry.js';
import { laneProblem } from '../core/geometry-rules.js';
import { boxOverlapsPolygon, coveredTime, groundDirection, groundExtentAlong, leadingPoint, lerpBox, transitions } from './lanes-geometry.js';

/** What the lane data needs of a track in one frame (relative frame coordinates). */
export interface LaneTrack {
  id: number;
  cls: ObjectClass;
  status: TrackStatus;
  /** Box, relative coordinates. */
  box: Box;
  /** Bottom-centre of the box, relative coordinates. */
  anchor: Point;
  /** Calibrated ground speed (km/h), null without calibration or while unknown. */
  speedKmh: number | null;
}

export interface LaneFrame {
  tMs: number;
  tracks: LaneTrack[];
  /** Relative frame point → ground (m); null without calibration. */
  groundOfRel: ((rel: Point) => Point | null) | null;
  /** Tracks an open queue incident holds now. */
  queuedTrackIds?: ReadonlySet<number>;
}

/** A counting line crossing, for lanes drawn as dividers across that line. */
export interface LaneLineCrossing {
  lineId: string;
  trackId: number;
  cls: ObjectClass;
  tMs: number;
  /** Where the track's anchor was at the crossing (relative). */
  anchor: Point;
  speedKmh: number | null;
}

export const DEFAULT_LANE_SETTINGS: LaneSettings = { intervalSeconds: 30, lengthClasses: { lightMaxM: 6, mediumMaxM: 9, heavyMaxM: 13 } };

/** Length class of a vehicle length (m) under the configured upper bounds. */
export function lengthClassOf(lengthM: number, t: LaneSettings['lengthClasses']): LengthClass {
  if (lengthM <= t.lightMaxM) return 'light';
  if (lengthM <= t.mediumMaxM) return 'medium';
  if (lengthM <= t.heavyMaxM) return 'heavy';
  return 'articulated';
}

interface Vehicle {
  trackId: number;
  cls: ObjectClass;
  tOn: number;
  tOff: number | null;
  headwayS: number | null;
  gapS: number | null;
  /** Calibrated speed samples while over the loop (km/h). */
  speeds: number[];
  /** Front of the box entering and leaving the loop (uncalibrated speed from the loop's length). */
  leadIn: number | null;
  leadOut: number | null;
  /** Seen reaching the loop (not first seen on it): its arrival time, headway and gap are real. */
  seenArriving: boolean;
}

interface TrackLaneState {
  id: number;
  lane: LaneRuntime | null;
  t: number;
  box: Box;
  over: boolean;
  leadOver: boolean;
  vehicle: Vehicle | null;
  /** The lane whose loop `vehicle` is (or was) on. */
  vehicleLane: LaneRuntime | null;
  cls: ObjectClass;
}

/** Ended vehicles and occupancy waiting for the interval they fall in. */
interface LaneRecord {
  trackId: number;
  tOff: number;
  cls: ObjectClass;
  speedKmh: number | null;
  lengthM: number | null;
  headwayS: number | null;
  gapS: number | null;
}

/** A divider lane: the part of a counting line between two positions. */
interface DividerShape {
  lineId: string;
  a: Point;
  u: Point;
  len: number;
  from: number;
  to: number;
}

export class LaneRuntime {
  readonly id: string;
  readonly polygon: Point[] | null;
  readonly divider: DividerShape | null;
  readonly dir: Point;
  readonly loop: Point[] | null;
  readonly loopLengthCfgM: number | null;
  /** Closed occupancy intervals (ms) and the ones open now, by track. */
  private intervals: Array<[number, number]> = [];
  readonly openSince = new Map<number, number>();
  private records: LaneRecord[] = [];
  /** Front of the last vehicle to reach the loop, and when it left (null while on it). */
  last: Vehicle | null = null;
  /** A divider lane: when the last vehicle in an emitted interval crossed. */
  private lastCrossingMs: number | null = null;
  private queueMaxM: number | null = null;
  private loopLenCache: { key: unknown; m: number | null } | null = null;

  constructor(cfg: LaneConfig, lines: readonly CountingLineConfig[]) {
    const problem = laneProblem(cfg, lines.map((l) => l.id));
    if (problem) throw new RangeError(problem.message);
    this.id = cfg.id;
    this.polygon = cfg.polygon ? cfg.polygon.map((p) => ({ x: p.x, y: p.y })) : null;
    const d = cfg.divider;
    const line = d ? lines.find((l) => l.id === d.lineId) : undefined;
    this.divider =
      d && line
        ? { lineId: d.lineId, a: line.from, u: unit(sub(line.to, line.from)), len: Math.hypot(line.to.x - line.from.x, line.to.y - line.from.y), from: Math.min(d.from, d.to), to: Math.max(d.from, d.to) }
        : null;
    this.dir = unit(cfg.direction);
    this.loop = cfg.loop ? cfg.loop.polygon.map((p) => ({ x: p.x, y: p.y })) : this.polygon;
    this.loopLengthCfgM = cfg.loop?.lengthM ?? null;
  }

  /** The anchor is in this lane: inside its polygon, or (divider lane) across the line between its dividers. */
  contains(anchor: Point): boolean {
    if (this.polygon) return pointInPolygon(anchor, this.polygon);
    const dv = this.divider;
    if (!dv) return false;
    const t = dot(sub(anchor, dv.a), dv.u) / dv.len;
    return t >= dv.from && t <= dv.to;
  }

  /** Loop length along the lane (m): from the calibration when there is one, else as configured. */
  loopLengthM(groundOfRel: LaneFrame['groundOfRel']): number | null {
    if (!this.loop || !groundOfRel) return this.loopLengthCfgM;
    if (this.loopLenCache?.key !== groundOfRel) this.loopLenCache = { key: groundOfRel, m: groundExtentAlong(this.loop, this.dir, groundOfRel) };
    return this.loopLenCache.m ?? this.loopLengthCfgM;
  }

  addInterval(a: number, b: number): void {
    if (b > a) this.intervals.push([a, b]);
  }

  addRecord(r: LaneRecord): void {
    this.records.push(r);
  }

  removeRecord(trackId: number, tOff: number): void {
    const i = this.records.findIndex((r) => r.trackId === trackId && r.tOff === tOff);
    if (i >= 0) this.records.splice(i, 1);
  }

  /** A track's class vote changed: its vehicles not yet in an emitted interval take the new class. */
  reclassify(trackId: number, cls: ObjectClass): void {
    for (const r of this.records) if (r.trackId === trackId) r.cls = cls;
  }

  /**
   * A divider lane's headways, from the crossings the interval keeps: one the line took back (a
   * rider's second track) or a walker's is not the vehicle in front.
   */
  private dividerHeadways(recs: LaneRecord[]): void {
    let prev = this.lastCrossingMs;
    for (const r of [...recs].sort((a, b) => a.tOff - b.tOff)) {
      r.headwayS = prev !== null && r.tOff >= prev ? (r.tOff - prev) / 1000 : null;
      prev = r.tOff;
    }
    this.lastCrossingMs = prev;
  }

  observeQueue(lengthM: number): void {
    this.queueMaxM = Math.max(this.queueMaxM ?? 0, lengthM);
  }

  /** The interval's numbers; what it used is dropped (a vehicle still on the loop stays open). */
  close(cameraId: string, bin: Bin, nowMs: number, settings: LaneSettings, calibrated: boolean): DomainEvent<LaneIntervalData> {
    const { startMs: s, endMs: e } = bin;
    // Vehicles only: a loop sees only vehicles, but a divider lane holds every crossing of its line.
    const recs = this.records.filter((r) => r.tOff < e && VEHICLE_CLASSES.includes(r.cls));
    this.records = this.records.filter((r) => r.tOff >= e);
    if (this.divider && !this.loop) this.dividerHeadways(recs);
    const openNow: Array<[number, number]> = [...this.openSince.values()].map((a) => [a, Math.min(e, Math.max(a, nowMs))]);
    const occupied = coveredTime([...this.intervals, ...openNow], s, e);
    this.intervals = this.intervals.filter(([, b]) => b > e);
    const counts = VEHICLE_CLASSES.map((cls) => ({ cls, count: recs.filter((r) => r.cls === cls).length }));
    const speeds = recs.map((r) => r.speedKmh).filter((v): v is number => v !== null);
    const lengths = recs.map((r) => r.lengthM).filter((v): v is number => v !== null);
    const headways = recs.map((r) => r.headwayS).filter((v): v is number => v !== null);
    const gaps = recs.map((r) => r.gapS).filter((v): v is number => v !== null);
    const lengthClasses = lengths.length
      ? LENGTH_CLASSES.map((lengthClass) => ({ lengthClass, count: lengths.filter((l) => lengthClassOf(l, settings.lengthClasses) === lengthClass).length }))
      : [];
    const queue = this.queueMaxM;
    this.queueMaxM = null;
    return {
      type: 'lane.interval',
      cameraId,
      timeMs: e,
      data: {
        ...binFields(cameraId, bin),
        laneId: this.id,
        volume: recs.length,
        counts,
        occupancyPct: this.loop ? round((100 * occupied) / Math.max(1, e - s), 2) : null,
        meanSpeedKmh: roundOrNull(mean(speeds), 1),
        p85SpeedKmh: calibrated ? roundOrNull(percentile(speeds, 85), 1) : null,
        meanHeadwayS: roundOrNull(mean(headways), 3),
        meanGapS: roundOrNull(mean(gaps), 3),
        meanLengthM: roundOrNull(mean(lengths), 2),
        lengthClasses,
        queueLengthM: queue === null ? null : round(queue, 1),
      },
    };
  }

  stateSize(): number {
    return this.openSince.size + this.intervals.length + this.records.length;
  }
}

export interface LaneAnalyticsOptions {
  lanes: readonly LaneConfig[];
  lines?: readonly CountingLineConfig[];
  settings?: LaneSettings;
  timeZone?: string;
}

/**
 * Every lane of one camera, with its own interval clock (the lane interval is independent of the
 * count bins). Fed once per frame with the confirmed tracks; pure apart from its own state.
 */
export class LaneAnalytics {
  readonly lanes: LaneRuntime[];
  private readonly clock: BinClock;
  private readonly settings: LaneSettings;
  private readonly tracks = new Map<number, TrackLaneState>();
  /** Each live track's class as last seen (reclassify). */
  private readonly classOf = new Map<number, ObjectClass>();
  private calibrated = false;
  private lastT: number | null = null;
  /** The frame's ground mapping (loop lengths in metres). */
  private lastGround: LaneFrame['groundOfRel'] = null;

  constructor(
    readonly cameraId: string,
    opts: LaneAnalyticsOptions,
  ) {
    this.settings = opts.settings ?? DEFAULT_LANE_SETTINGS;
    this.lanes = opts.lanes.map((l) => new LaneRuntime(l, opts.lines ?? []));
    this.clock = new BinClock([this.settings.intervalSeconds], { timeZone: opts.timeZone });
  }

  get intervalSeconds(): number {
    return this.settings.intervalSeconds;
  }

  /** One analysed frame: loop presence between the previous frame and this one, then intervals that ended. */
  process(f: LaneFrame): DomainEvent<LaneIntervalData>[] {
    if (this.lanes.length === 0) return [];
    this.calibrated = f.groundOfRel !== null;
    this.lastGround = f.groundOfRel;
    for (const tr of f.tracks) {
      if (tr.status !== 'confirmed' || !VEHICLE_CLASSES.includes(tr.cls)) continue;
      this.observeTrack(tr, f);
    }
    // A track that is lost or gone for this frame keeps its state until endTrack (the tracker decides).
    this.observeQueues(f);
    this.lastT = f.tMs;
    const events = this.closeBins(this.clock.closeUntil(f.tMs), f.tMs);
    this.clock.openAt(f.tMs);
    return events;
  }

  /**
   * A divider lane without a loop counts the line's crossings between its dividers. Every class is
   * held (a walker's track may turn out to be a rider's); the interval counts the vehicles among them.
   */
  onCrossing(c: LaneLineCrossing): void {
    for (const lane of this.lanes) {
      if (lane.loop || lane.divider?.lineId !== c.lineId || !lane.contains(c.anchor)) continue;
      lane.addRecord({ trackId: c.trackId, tOff: c.tMs, cls: c.cls, speedKmh: c.speedKmh, lengthM: null, headwayS: null, gapS: null });
    }
  }

  /** The line took a crossing back: it leaves the divider lanes on that line, if its interval is still open. */
  withdraw(c: Pick<LaneLineCrossing, 'lineId' | 'trackId' | 'tMs'>): void {
    for (const lane of this.lanes) if (!lane.loop && lane.divider?.lineId === c.lineId) lane.removeRecord(c.trackId, c.tMs);
  }

  /** The tracker dropped these tracks: a vehicle still over a loop leaves it where it was last seen. */
  endTracks(ids: Iterable<number>): void {
    for (const id of ids) {
      this.classOf.delete(id);
      const st = this.tracks.get(id);
      this.tracks.delete(id);
      if (!st?.lane) continue;
      if (st.over) this.leave(st, st.lane, st.t, false);
    }
  }

  markFlag(flag: DataQualityFlag, atMs: number): void {
    this.clock.markFlag(flag, atMs);
  }

  streamGap(nowMs: number): void {
    this.endTracks([...this.tracks.keys()]);
    this.clock.streamGap(nowMs);
  }

  tick(nowMs: number): DomainEvent<LaneIntervalData>[] {
    const closed = this.clock.tick(nowMs);
    return closed.length ? this.closeBins(closed, nowMs) : [];
  }

  close(nowMs: number): DomainEvent<LaneIntervalData>[] {
    this.endTracks([...this.tracks.keys()]);
    this.lastT = null;
    return this.closeBins(this.clock.closeAll(nowMs), nowMs);
  }

  stateSize(): number {
    return this.tracks.size + this.classOf.size + this.lanes.reduce((s, l) => s + l.stateSize(), 0);
  }

  /** The class of a track's vehicles follows its vote until their interval is emitted (as the line counts do). */
  reclassify(trackId: number, cls: ObjectClass): void {
    const was = this.classOf.get(trackId);
    this.classOf.set(trackId, cls);
    if (was === undefined || was === cls) return;
    for (const lane of this.lanes) lane.reclassify(trackId, cls);
  }

  /** The lane a point is in (line crossings are labelled with it); the first match in config order. */
  laneAt(anchor: Point): string | null {
    return this.lanes.find((l) => l.contains(anchor))?.id ?? null;
  }

  private closeBins(bins: Bin[], nowMs: number): DomainEvent<LaneIntervalData>[] {
    const out: DomainEvent<LaneIntervalData>[] = [];
    for (const bin of bins.sort((a, b) => a.endMs - b.endMs)) {
      for (const lane of this.lanes) out.push(lane.close(this.cameraId, bin, Math.min(nowMs, this.lastT ?? nowMs), this.settings, this.calibrated));
    }
    return out;
  }

  private observeTrack(tr: LaneTrack, f: LaneFrame): void {
    const here = this.lanes.find((l) => l.contains(tr.anchor)) ?? null;
    const st = this.tracks.get(tr.id);
    if (!st) {
      const lane = here;
      const over = lane?.loop ? boxOverlapsPolygon(tr.box, lane.loop) : false;
      const leadOver = lane?.loop ? pointInPolygon(leadingPoint(tr.box, lane.dir), lane.loop) : false;
      const fresh: TrackLaneState = { id: tr.id, lane, t: f.tMs, box: tr.box, over: false, leadOver, vehicle: null, vehicleLane: null, cls: tr.cls };
      this.tracks.set(tr.id, fresh);
      // First seen already over the loop: it arrived before we saw it (headway/gap unknown).
      if (lane && over) this.enter(fresh, lane, f.tMs, false);
      return;
    }
    st.cls = tr.cls;
    // A lane change (or leaving every lane) ends its stay on the old lane's loop at the last frame.
    const lane = here ?? st.lane;
    if (st.lane && lane !== st.lane) {
      if (st.over) this.leave(st, st.lane, st.t);
      st.over = false;
      st.leadOver = false;
    }
    st.lane = lane;
    if (lane?.loop) {
      const loop = lane.loop;
      const t0 = st.t;
      const t1 = f.tMs;
      const b0 = st.box;
      const b1 = tr.box;
      if (t1 > t0) {
        const moves = [
          ...transitions(t0, t1, st.over, (x) => boxOverlapsPolygon(lerpBox(b0, b1, x), loop)).map((m) => ({ ...m, lead: false })),
          ...transitions(t0, t1, st.leadOver, (x) => pointInPolygon(leadingPoint(lerpBox(b0, b1, x), lane.dir), loop)).map((m) => ({ ...m, lead: true })),
        ].sort((a, b) => a.t - b.t);
        for (const m of moves) {
          if (m.lead) {
            st.leadOver = m.inside;
            const v = st.vehicle;
            if (v && m.inside && v.leadIn === null) v.leadIn = m.t;
            if (v && !m.inside && v.leadIn !== null && v.leadOut === null) v.leadOut = m.t;
          } else if (m.inside) {
            this.enter(st, lane, m.t, true);
            if (st.leadOver && st.vehicle && st.vehicle.leadIn === null) st.vehicle.leadIn = m.t;
          }
          else this.leave(st, lane, m.t);
        }
      }
      if (st.over && st.vehicle && tr.speedKmh !== null) st.vehicle.speeds.push(tr.speedKmh);
    }
    st.t = f.tMs;
    st.box = tr.box;
  }

  private enter(st: TrackLaneState, lane: LaneRuntime, t: number, seenArriving: boolean): void {
    st.over = true;
    lane.openSince.set(st.id, t);
    // Back over the same loop (box jitter at its far edge, stop-and-go): the loop is occupied again,
    // but it is the same vehicle, counted once.
    if (st.vehicle && st.vehicleLane === lane) return;
    const prev = lane.last;
    const v: Vehicle = {
      trackId: st.id,
      cls: st.cls,
      tOn: t,
      tOff: null,
      headwayS: seenArriving && prev ? (t - prev.tOn) / 1000 : null,
      gapS: seenArriving && prev ? (prev.tOff === null ? 0 : Math.max(0, t - prev.tOff) / 1000) : null,
      speeds: [],
      leadIn: null,
      leadOut: null,
      seenArriving,
    };
    st.vehicle = v;
    st.vehicleLane = lane;
    lane.last = v;
  }

  /** `seenLeaving` false: the track ended on the loop, so its time there (and length) is cut short. */
  private leave(st: TrackLaneState, lane: LaneRuntime, t: number, seenLeaving = true): void {
    st.over = false;
    const id = st.id;
    const since = lane.openSince.get(id);
    lane.openSince.delete(id);
    if (since !== undefined) lane.addInterval(since, t);
    const v = st.vehicle;
    if (!v || v.tOff !== null) return;
    v.tOff = t;
    v.cls = st.cls;
    const loopM = lane.loopLengthM(this.lastGround);
    let speedKmh = mean(v.speeds);
    if (speedKmh === null && !this.calibrated && loopM !== null && v.leadIn !== null && v.leadOut !== null && v.leadOut > v.leadIn) {
      speedKmh = (loopM / ((v.leadOut - v.leadIn) / 1000)) * 3.6;
    }
    const onS = (t - v.tOn) / 1000;
    const lengthM = speedKmh !== null && loopM !== null && v.seenArriving && seenLeaving ? Math.max(0, (speedKmh / 3.6) * onS - loopM) : null;
    lane.addRecord({ trackId: id, tOff: t, cls: v.cls, speedKmh, lengthM, headwayS: v.headwayS, gapS: v.gapS });
  }

  private observeQueues(f: LaneFrame): void {
    const q = f.queuedTrackIds;
    const g = f.groundOfRel;
    if (!q || q.size === 0 || !g) return;
    for (const lane of this.lanes) {
      const pts: Point[] = [];
      let dir: Point | null = null;
      for (const tr of f.tracks) {
        if (!q.has(tr.id) || !lane.contains(tr.anchor)) continue;
        const p = g(tr.anchor);
        if (!p) continue;
        pts.push(p);
        dir ??= groundDirection(tr.anchor, lane.dir, g);
      }
      if (pts.length === 0 || !dir) continue;
      const d = dir;
      const s = pts.map((p) => dot(p, d));
      lane.observeQueue(Math.max(...s) - Math.min(...s));
    }
  }

}

function round(x: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

function roundOrNull(x: number | null, digits: number): number | null {
  return x === null ? null : round(x, digits);
}
