// A counting line: a track is counted once per direction when its bottom-centre anchor has been seen
// at least `minTravel` (relative units, perpendicular to the line) on one side and then at least
// `minTravel` on the other, and the anchor's path crossed the line inside the segment. The
// hysteresis band absorbs box flicker and stop-and-go; near a frame edge the band is narrowed to the
// room that is left, and a track first seen between the edge and the line while heading across it
// is taken to come from that edge, so edge lines neither miss nor double count. A vehicle whose first
// box is already on the line (found late: faint, or at 5 fps between two frames) counts when it leaves
// the band across; one there when the stream started, only if it was seen going over the line itself.
// A crossing is travel: it counts only once the track has moved one box height from where the line
// first saw it (analytics/evidence.ts). A faint static box on the background (a tree's shadow at
// cdnet-highway) whose height flickers swings its bottom edge back and forth over a line without
// going anywhere; a vehicle that crosses before it has moved that far is counted when it has.
// A vehicle lost just before the line (in spray, in glare) whose predicted box goes on across
// within a second counts when its track ends without being seen again, unless another track counted
// it there (observeLost).
import type { CountingLineConfig } from '../config/schema.js';
import { OBJECT_CLASSES, TWO_WHEELER_CLASSES, type Box, type DomainEvent, type ObjectClass, type Point } from '../core/types.js';
import type { CountIntervalData } from '../core/event-data.js';
import { binFields, type Bin } from './bins.js';
import { distanceToFrameEdge, dot, mean, sub, unit } from './geometry.js';
import type { TrackView } from './types.js';
import { lineProblem } from '../core/geometry-rules.js';

export type Direction = 'forward' | 'backward';

/** A rider and its two-wheeler cross within this of each other (their boxes' bottoms differ by a wheel or a foot)... */
const RIDER_WITHIN_MS = 500;
/** ...and this close on the screen (relative units). */
const RIDER_WITHIN_REL = 0.05;
/** A two-wheeler boxed as a vehicle under its rider crosses within this of the rider's track... */
const FRAME_WITHIN_MS = 300;
/** ...its box no wider than this many of the rider's (a car beside a rider is far wider). */
const FRAME_MAX_WIDTH_RATIO = 2.5;
/** A side change between two sightings further apart than this waits for the track to go on across. */
const AFTER_GAP_MS = 1000;
/** A vehicle back over a line it was counted on sooner than this did not turn round (jitterBack). */
const TURN_AROUND_MS = 3000;
/** Two tracks crossing the same way within this of each other... */
const SAME_VEHICLE_MS = 200;
/** ...whose boxes cover this much of the same stretch of the line (of the shorter) are one vehicle. */
const SAME_VEHICLE_COVER = 0.7;
/** A lost vehicle's predicted anchor going over the line this soon after its last box counts if it is never seen again... */
const COAST_ACROSS_MS = 1000;
/** ...while the predicted box is within this factor of its last seen height (a runaway size is no longer the vehicle)... */
const COAST_SIZE_RATIO = 0.6;
/** ...and no other track crossed the same way, over this much of the same stretch of the line, within COAST_SAME_MS (the vehicle found again). */
const COAST_SAME_COVER = 0.5;
const COAST_SAME_MS = 1500;

interface LineTrackState {
  /** Side the anchor was last seen beyond the hysteresis band: +1 forward side, −1 backward side, 0 unknown. */
  side: -1 | 0 | 1;
  prev: Point | null;
  prevMs: number | null;
  /** Position along the segment (0..1) where the anchor's path last changed side. */
  lastCrossT: number | null;
  /** When it changed side, interpolated between the two observations; null when it came in across. */
  lastCrossMs: number | null;
  /** Time between the two observations it changed side between (0: seen on the line). */
  crossGapMs: number;
  counted: Set<Direction>;
  /** Frame time of its last counted crossing. */
  countedMs: number | null;
  /** A crossing made before the track had travelled: counted when it has, dropped if it goes back first. */
  pending: Direction | null;
  /** Born inside the hysteresis band (first box on the line) after the stream started: where and when. */
  bornInBand: { d: number; t: number; tMs: number } | null;
  /** The pending crossing is its first way out of the band since birth: the side it came from is a guess. */
  pendingFromBirth: boolean;
  /**
   * The pending crossing spans a gap in which the track was not seen: where (signed distance from the
   * line) it was seen again, and its last view since. It counts once the track has gone on across from
   * there, or with that view if the track ends still across.
   */
  afterGap: { seenAgainAt: number; lastView: { tv: TrackView; tMs: number } | null } | null;
  /** Its box height (relative) at `prev`. */
  prevH: number;
  /**
   * Lost, its predicted anchor went over the line within COAST_ACROSS_MS of its last box: the
   * crossing, when and where the path met the line, and that view. It counts if the track ends
   * without being seen again; seen again, the sightings decide as usual.
   */
  coasted: { direction: Direction; tMs: number; t: number; tv: TrackView; viewMs: number } | null;
}

export interface LineCrossing {
  lineId: string;
  trackId: number;
  direction: Direction;
  cls: ObjectClass;
  /** When the anchor crossed the line: interpolated between the observations either side of it (at
   * 5 fps a frame is 0.2 s, and the crossing is only sure once the anchor is past the hysteresis band). */
  tMs: number;
  /** Where on the screen it crossed (relative), on the line. */
  at: Point;
  speedKmh: number | null;
}

/** A counted crossing's direction, time and the stretch of the line (0..1 along it) its box covered. */
interface CountedSpan {
  direction: Direction;
  tMs: number;
  span: [number, number];
}

/** `r` was counted the same way within `withinMs` of `tMs`, over at least `cover` of the shorter of the two stretches. */
function overSameStretch(r: CountedSpan, direction: Direction, tMs: number, span: [number, number], withinMs: number, cover: number): boolean {
  const overlap = Math.min(r.span[1], span[1]) - Math.max(r.span[0], span[0]);
  return r.direction === direction && Math.abs(r.tMs - tMs) <= withinMs && overlap >= cover * Math.min(r.span[1] - r.span[0], span[1] - span[0]);
}

interface BinAcc {
  counts: Map<string, number>;
  speeds: number[];
}

function movedBy(b: Box, v: Point, seconds: number): Box {
  return { x: b.x + v.x * seconds, y: b.y + v.y * seconds, w: b.w, h: b.h };
}

export class CountingLine {
  readonly id: string;
  private readonly a: Point;
  private readonly u: Point;
  private readonly len: number;
  /** Unit normal pointing to the forward side (relative coordinates). */
  private readonly n: Point;
  private readonly minTravel: number;
  private readonly classes: ReadonlySet<ObjectClass> | null;
  private readonly tracks = new Map<number, LineTrackState>();
  private readonly acc = new Map<number, BinAcc>();
  private readonly totals = { forward: 0, backward: 0 };
  /** Counted tracks whose speed was not yet known at the crossing (too young for the speed window). */
  private readonly pendingSpeed = new Set<number>();
  /**
   * Counted crossings whose class can still change. A track's class is a vote over its whole life
   * (track/tracker.ts), and some votes turn after the line: a scooter first boxed as a 'vehicle' is
   * named a motorcycle by its width and its rider a few frames later. The count moves with the vote
   * until the track ends or an interval closes (so an emitted interval and its crossings agree).
   */
  private readonly unsettled = new Map<number, LineCrossing[]>();
  private settled: LineCrossing[] = [];
  /** Crossings taken back since the last call of takeWithdrawn (the lanes drop them too). */
  private withdrawn: LineCrossing[] = [];
  /** Two-wheeler crossings settled in the last seconds: a person crossing with one is its rider. */
  private recentTwoWheelers: LineCrossing[] = [];
  private streamStartMs: number | null = null;
  /** Vehicle crossings counted in the last seconds, with the stretch of the line their boxes covered. */
  private recentVehicles: CountedSpan[] = [];
  /** Every vehicle crossing counted in the last seconds, two-wheelers too, with its stretch of the line (countCoasted). */
  private recentCrossings: Array<CountedSpan & { coasted: boolean }> = [];
  /** The box and velocity (relative) each held crossing's track had in the frame it was counted in. */
  private readonly boxAtCount = new WeakMap<LineCrossing, { box: Box; v: Point; frameMs: number }>();

  /** `coastAcross` false: a lost track's predicted crossing never counts (benchmarks measuring the tracker's re-finding alone). */
  constructor(
    cfg: CountingLineConfig,
    private readonly opts: { coastAcross: boolean } = { coastAcross: true },
  ) {
    const problem = lineProblem(cfg);
    if (problem) throw new RangeError(problem.message);
    this.id = cfg.id;
    this.a = { x: cfg.from.x, y: cfg.from.y };
    const d = sub(cfg.to, cfg.from);
    this.len = Math.hypot(d.x, d.y);
    if (this.len < 1e-6) throw new RangeError(`counting line '${cfg.id}': from and to are the same point`);
    this.u = unit(d);
    // Default forward = left normal of from→to as seen on screen (y points down): (dy, −dx).
    const left = { x: this.u.y, y: -this.u.x };
    if (cfg.direction) {
      const s = dot(cfg.direction, left);
      if (Math.abs(s) < 1e-9) throw new RangeError(`counting line '${cfg.id}': direction is parallel to the line`);
      this.n = s > 0 ? left : { x: -left.x, y: -left.y };
    } else {
      this.n = left;
    }
    this.minTravel = cfg.minTravel ?? 0.02;
    this.classes = cfg.classes ? new Set(cfg.classes) : null;
  }

  /**
   * Feed one observation of a confirmed track; returns the crossing if this one counts. `traffic`:
   * the track has shown it is a vehicle, not a faint box on the background; `travelled`: it has moved
   * a box height since birth (analytics/evidence.ts).
   */
  observe(tv: TrackView, tMs: number, traffic = true, travelled = traffic): LineCrossing | null {
    this.reclassify(tv.id, tv.cls);
    if (this.pendingSpeed.has(tv.id) && tv.speedKmh !== null) {
      this.pendingSpeed.delete(tv.id);
      for (const acc of this.acc.values()) acc.speeds.push(tv.speedKmh);
    }
    const p = tv.anchorRel;
    let st = this.tracks.get(tv.id);
    if (st) st.coasted = null;
    if (!st) {
      st = { side: 0, prev: null, prevMs: null, lastCrossT: null, lastCrossMs: null, crossGapMs: 0, counted: new Set(), countedMs: null, pending: null, bornInBand: null, pendingFromBirth: false, afterGap: null, coasted: null, prevH: 0 };
      this.tracks.set(tv.id, st);
    }
    const rel = sub(p, this.a);
    const d = dot(rel, this.n);
    const t = dot(rel, this.u) / this.len;
    if (!st.prev && this.arrivedOnLine(tv, tMs, d, t)) st.bornInBand = { d, t, tMs };
    if (st.prev) {
      const dPrev = dot(sub(st.prev, this.a), this.n);
      if (dPrev !== 0 && d !== 0 && Math.sign(dPrev) !== Math.sign(d)) {
        const f = dPrev / (dPrev - d);
        const q = { x: st.prev.x + f * (p.x - st.prev.x), y: st.prev.y + f * (p.y - st.prev.y) };
        st.lastCrossT = dot(sub(q, this.a), this.u) / this.len;
        st.lastCrossMs = st.prevMs === null ? tMs : st.prevMs + f * (tMs - st.prevMs);
        st.crossGapMs = st.prevMs === null ? 0 : tMs - st.prevMs;
      }
    }
    st.prev = { x: p.x, y: p.y };
    st.prevMs = tMs;
    st.prevH = tv.boxRel.h;
    if (d === 0) {
      // On the line itself: this is where and when it crosses, if it goes on.
      st.lastCrossT = t;
      st.lastCrossMs = tMs;
      st.crossGapMs = 0;
      return null;
    }
    const raw: -1 | 1 = d > 0 ? 1 : -1;
    const foot = this.pointAt(t);
    if (Math.abs(d) < this.threshold(foot, raw)) return this.settlePending(st, tv, tMs, traffic, travelled, d);

    if (st.side === 0) {
      // First sure sighting. An object that just came into the frame on the line's other side and is
      // already across it was not seen crossing: count it as coming from where it entered.
      const entryT = this.enteredAcross(p, foot, d, t, raw, tv.velocityRel);
      const born = st.bornInBand;
      st.bornInBand = null;
      if (entryT !== null) {
        st.side = (-raw) as -1 | 1;
        st.lastCrossT = entryT;
        st.lastCrossMs = tMs;
      } else if (born && (d - born.d) * raw > 0 && dot(tv.velocityRel, this.n) * raw > 0) {
        // First seen on the line and now leaving it across: the detector found it late, on the line.
        // Where its path met the line is known when it was first seen on the other side of it.
        st.side = (-raw) as -1 | 1;
        st.pendingFromBirth = true;
        if (st.lastCrossMs === null) {
          st.lastCrossT = born.t;
          st.lastCrossMs = born.tMs;
        }
      } else if (st.lastCrossMs !== null && dot(tv.velocityRel, this.n) * raw > 0) {
        // First seen inside the band (here when the stream started) and seen going over the line
        // itself since: a crossing we watched, only its approach was not. One already past the line
        // when the stream started (wsdot's first car) never changes side and is not counted.
        st.side = (-raw) as -1 | 1;
        st.pendingFromBirth = true;
      } else {
        st.side = raw;
        return null;
      }
    }
    if (raw === st.side) return this.settlePending(st, tv, tMs, traffic, travelled, d);
    st.side = raw;
    const direction: Direction = raw > 0 ? 'forward' : 'backward';
    // Back over the line before it had travelled: the pending crossing was jitter. For a track first
    // seen on the line that was its first way out, so where it came from was only a guess: this is
    // the crossing (a box in spray can swell backwards before the vehicle's own motion shows).
    if (st.pending !== null && st.pending !== direction) {
      const guessed = st.pendingFromBirth;
      st.pending = null;
      st.pendingFromBirth = false;
      if (!guessed) return null;
    }
    const crossT = st.lastCrossT ?? t;
    if (crossT < -0.01 || crossT > 1.01) return null;
    st.lastCrossT = crossT;
    st.lastCrossMs ??= tMs;
    if (st.counted.has(direction)) return null;
    if (this.classes && !this.classes.has(tv.cls)) return null;
    if (this.jitterBack(st, tv, tMs)) return null;
    st.pending = direction;
    st.afterGap = st.crossGapMs > AFTER_GAP_MS ? { seenAgainAt: d, lastView: null } : null;
    return this.settlePending(st, tv, tMs, traffic, travelled, d);
  }

  /**
   * A track whose first box is inside the line's band, on a stream that was already running when it
   * appeared: a vehicle the detector found late, on the line (at 5 fps a faint vehicle can go from
   * unseen to on the line in one frame). One already on the line when the stream (re)started is not
   * (nobody saw where it came from) unless it is then seen going over the line itself (observe()).
   */
  private arrivedOnLine(tv: TrackView, tMs: number, d: number, t: number): boolean {
    if (this.streamStartMs === null || tv.firstSeenMs <= this.streamStartMs || tMs - tv.firstSeenMs > 1000) return false;
    if (t < 0 || t > 1) return false;
    return Math.abs(d) < this.threshold(this.pointAt(t), d >= 0 ? 1 : -1);
  }

  /**
   * A vehicle counted one way whose anchor is back over the line within seconds did not turn round
   * (no vehicle makes a U-turn over a line that fast): its box grew at the bottom (spray, a box
   * merging with the one behind) or the track slid onto the vehicle following it. People are not
   * held to it: people do step back.
   */
  private jitterBack(st: LineTrackState, tv: TrackView, tMs: number): boolean {
    return tv.isVehicle && st.countedMs !== null && tMs - st.countedMs < TURN_AROUND_MS;
  }

  /**
   * Another track's crossing of the same vehicle: the same way, at the same moment, with boxes that
   * cover the same stretch of the line. At night a car can be boxed three times (the whole car, its
   * lit rear, its roof) by boxes overlapping too little for NMS (IoU 0.3–0.45), each box a track of
   * its own. Vehicles abreast cover different stretches of the line (their lanes), one behind the
   * other cross at different moments.
   */
  private sameVehicleCounted(tv: TrackView, c: LineCrossing): boolean {
    const span = this.spanOf(tv.boxRel);
    this.recentVehicles = this.recentVehicles.filter((r) => Math.abs(c.tMs - r.tMs) <= 5_000);
    const same = this.recentVehicles.some((r) => overSameStretch(r, c.direction, c.tMs, span, SAME_VEHICLE_MS, SAME_VEHICLE_COVER));
    if (!same) this.recentVehicles.push({ direction: c.direction, tMs: c.tMs, span });
    return same;
  }

  /** The stretch of the line (0 = from, 1 = to) a box covers, seen along the line. */
  private spanOf(b: Box): [number, number] {
    const centre = dot(sub({ x: b.x + b.w / 2, y: b.y + b.h / 2 }, this.a), this.u) / this.len;
    const half = (Math.abs(this.u.x) * b.w + Math.abs(this.u.y) * b.h) / 2 / this.len;
    return [centre - half, centre + half];
  }

  /** The point of the line at `t` along it (0 = from, 1 = to), relative frame coordinates. */
  private pointAt(t: number): Point {
    return { x: this.a.x + this.u.x * t * this.len, y: this.a.y + this.u.y * t * this.len };
  }

  /** The stream (re)started at this frame time: tracks seen in it were already there. */
  streamStarted(tMs: number): void {
    this.streamStartMs = tMs;
  }

  /**
   * Counts the pending crossing once the track has shown it is traffic; one first seen on the line,
   * once it has travelled (a confident box that swells backwards on its first frames is not a crossing).
   */
  private settlePending(st: LineTrackState, tv: TrackView, tMs: number, traffic: boolean, travelled: boolean, d: number): LineCrossing | null {
    if (st.pending === null || !(st.pendingFromBirth ? travelled : traffic)) return null;
    if (st.afterGap !== null) {
      // Seen again across the line after a gap: a vehicle that goes on across was crossing; one that
      // goes back is another vehicle whose box the lost track took (its "crossing" is the jump).
      const on = (d - st.afterGap.seenAgainAt) * (st.pending === 'forward' ? 1 : -1);
      if (on <= -this.minTravel) {
        st.pending = null;
        st.afterGap = null;
        return null;
      }
      if (on < this.minTravel) {
        st.afterGap.lastView = { tv, tMs };
        return null;
      }
      st.afterGap = null;
    }
    return this.countPending(st, tv, tMs);
  }

  /** The pending crossing counts (settlePending's checks passed, or the track ended still across). */
  private countPending(st: LineTrackState, tv: TrackView, tMs: number, coasted = false): LineCrossing | null {
    const direction = st.pending;
    if (direction === null) return null;
    st.pending = null;
    st.pendingFromBirth = false;
    if (st.counted.has(direction)) return null;
    st.counted.add(direction);
    st.countedMs = tMs;
    const at = this.pointAt(st.lastCrossT ?? 0.5); // set by observe() before a crossing is pending
    const crossing: LineCrossing = { lineId: this.id, trackId: tv.id, direction, cls: tv.cls, tMs: st.lastCrossMs ?? tMs, at, speedKmh: tv.speedKmh };
    // Two-wheelers ride in packs, abreast within a box width of each other: not held to it.
    if (tv.isVehicle && !TWO_WHEELER_CLASSES.includes(tv.cls) && this.sameVehicleCounted(tv, crossing)) return null;
    if (tv.isVehicle) {
      const span = this.spanOf(tv.boxRel);
      this.recentCrossings = this.recentCrossings.filter((r) => Math.abs(crossing.tMs - r.tMs) <= 5_000);
      // The vehicle a lost track was counted for from its prediction, found again by a new track.
      if (this.recentCrossings.some((r) => r.coasted && this.sameStretch(r, direction, crossing.tMs, span))) return null;
      this.recentCrossings.push({ direction, tMs: crossing.tMs, span, coasted });
    }
    this.record(crossing);
    const held = { ...crossing };
    this.boxAtCount.set(held, { box: tv.boxRel, v: tv.velocityRel, frameMs: tMs });
    const open = this.unsettled.get(tv.id);
    if (open) open.push(held);
    else this.unsettled.set(tv.id, [held]);
    return crossing;
  }

  /** The track's class vote changed: its counted crossings move to the new class in the open intervals. */
  private reclassify(trackId: number, cls: ObjectClass): void {
    for (const c of this.unsettled.get(trackId) ?? []) {
      if (c.cls === cls || (this.classes && !this.classes.has(cls))) continue;
      this.addCount(c.direction, c.cls, -1);
      this.addCount(c.direction, cls, 1);
      c.cls = cls;
    }
  }

  private settle(trackId: number): void {
    const cs = this.unsettled.get(trackId);
    if (!cs) return;
    this.unsettled.delete(trackId);
    for (const c of cs) {
      if (c.cls === 'person' && this.riderOf(c)) {
        this.unrecord(c);
        continue;
      }
      if (c.cls === 'car' && this.frameOfTwoWheeler(c)) {
        this.unrecord(c);
        continue;
      }
      this.settled.push(c);
      if (TWO_WHEELER_CLASSES.includes(c.cls)) this.recentTwoWheelers.push(c);
    }
    const latest = cs.reduce((m, c) => Math.max(m, c.tMs), -Infinity);
    this.recentTwoWheelers = this.recentTwoWheelers.filter((c) => c.tMs >= latest - 10_000);
  }

  /**
   * A person crossing with a two-wheeler, the same way, at the same moment and place, is its rider: the
   * rider's box made a track of its own beside the bicycle's (riders.ts fuses boxes frame by frame, and
   * misses some), and a rider is not a pedestrian.
   */
  private riderOf(p: LineCrossing): boolean {
    const near = (c: LineCrossing) =>
      c !== p && c.direction === p.direction && TWO_WHEELER_CLASSES.includes(c.cls) && Math.abs(c.tMs - p.tMs) <= RIDER_WITHIN_MS && Math.hypot(c.at.x - p.at.x, c.at.y - p.at.y) <= RIDER_WITHIN_REL;
    if (this.recentTwoWheelers.some(near)) return true;
    for (const cs of this.unsettled.values()) if (cs.some(near)) return true;
    return false;
  }

  /**
   * A 'car' crossing under a two-wheeler's rider: the detector boxed the bicycle or motorcycle itself
   * as a vehicle (its frame, below the rider) beside the rider's own track, which is the two-wheeler.
   * Same way, same moment, the two-wheeler's box over the car's (rider's head above its top, wheels or
   * feet inside it) and the car's box not much wider: a car with a rider overlapping it in the image is
   * far wider, and crosses apart unless they are abreast, where the boxes sit side by side.
   */
  private frameOfTwoWheeler(c: LineCrossing): boolean {
    const near = (w: LineCrossing) => TWO_WHEELER_CLASSES.includes(w.cls) && this.isFrameOf(c, w);
    if (this.recentTwoWheelers.some(near)) return true;
    for (const cs of this.unsettled.values()) if (cs.some(near)) return true;
    return false;
  }

  private isFrameOf(car: LineCrossing, wheel: LineCrossing): boolean {
    if (car === wheel || car.direction !== wheel.direction || Math.abs(car.tMs - wheel.tMs) > FRAME_WITHIN_MS) return false;
    const cb = this.boxAtCount.get(car);
    const wb = this.boxAtCount.get(wheel);
    if (!cb || !wb) return false;
    // Counted a frame or two apart: both boxes where they were at the later count.
    const at = Math.max(cb.frameMs, wb.frameMs);
    const c = movedBy(cb.box, cb.v, (at - cb.frameMs) / 1000);
    const w = movedBy(wb.box, wb.v, (at - wb.frameMs) / 1000);
    if (c.w > FRAME_MAX_WIDTH_RATIO * w.w) return false;
    const overlap = Math.min(c.x + c.w, w.x + w.w) - Math.max(c.x, w.x);
    const bottom = w.y + w.h;
    return overlap >= 0.4 * Math.min(c.w, w.w) && w.y < c.y - 0.25 * c.h && bottom > c.y + 0.2 * c.h && bottom < c.y + 1.15 * c.h;
  }

  /** Takes a counted crossing back out of the open intervals (a rider's second track). */
  private unrecord(c: LineCrossing): void {
    this.totals[c.direction]--;
    this.addCount(c.direction, c.cls, -1);
    this.withdrawn.push(c);
  }

  /** Adds `by` to a direction × class count of every open interval. */
  private addCount(direction: Direction, cls: ObjectClass, by: number): void {
    const key = `${direction}|${cls}`;
    for (const acc of this.acc.values()) acc.counts.set(key, (acc.counts.get(key) ?? 0) + by);
  }

  /** Crossings whose class is final since the last call, in the order they settled. */
  takeSettled(): LineCrossing[] {
    const out = this.settled;
    this.settled = [];
    return out;
  }

  /** Crossings taken back since the last call (a rider's second track, a bicycle's frame boxed as a car). */
  takeWithdrawn(): LineCrossing[] {
    const out = this.withdrawn;
    this.withdrawn = [];
    return out;
  }

  /**
   * Where along the segment (0..1) a track first seen at `p`, `d` beyond the line on side `raw`, crossed
   * the line when it came into the frame from the other side; null when it did not. Two ways in:
   * between a near frame edge and the line, heading across it (the edge behind the line); or through
   * a side edge, its path traced back along its velocity to the border lying on the other side of
   * the line (a lane cut by the frame edge). Both are bounded by how far it could have come since
   * entering (a confirmed track is < 1 s old then), so a track re-born mid-frame after an occlusion is
   * not counted a second time.
   */
  private enteredAcross(p: Point, foot: Point, d: number, t: number, raw: -1 | 1, v: Point): number | null {
    const room = distanceToFrameEdge(foot, { x: -raw * this.n.x, y: -raw * this.n.y });
    const vn = dot(v, this.n);
    const towards = vn * raw > 0;
    const inSegment = t >= 0 && t <= 1;
    const reach = room + 4 * this.minTravel + Math.abs(vn) * 0.6;
    if (room < 2 * this.minTravel && towards && inSegment && Math.abs(d) < reach) return t;
    const speed = Math.hypot(v.x, v.y);
    if (!towards || speed < 1e-6) return null;
    const back = { x: -v.x / speed, y: -v.y / speed };
    const behind = distanceToFrameEdge(p, back);
    if (behind > speed * 0.8 + 2 * this.minTravel) return null;
    const entry = { x: p.x + back.x * behind, y: p.y + back.y * behind };
    const dEntry = dot(sub(entry, this.a), this.n);
    if (dEntry * raw >= 0) return null;
    const f = d / (d - dEntry);
    const q = { x: p.x + f * (entry.x - p.x), y: p.y + f * (entry.y - p.y) };
    const tq = dot(sub(q, this.a), this.u) / this.len;
    return tq >= 0 && tq <= 1 ? tq : null;
  }

  /** Hysteresis on side `s` at point `foot` of the line: minTravel, narrowed near a frame edge. */
  private threshold(foot: Point, s: -1 | 1): number {
    const room = distanceToFrameEdge(foot, { x: s * this.n.x, y: s * this.n.y });
    return Math.max(1e-4, Math.min(this.minTravel, 0.5 * room));
  }

  private record(c: LineCrossing): void {
    this.totals[c.direction]++;
    this.addCount(c.direction, c.cls, 1);
    if (c.speedKmh !== null) for (const acc of this.acc.values()) acc.speeds.push(c.speedKmh);
    if (c.speedKmh === null) this.pendingSpeed.add(c.trackId);
  }

  openBin(binSeconds: number): void {
    if (!this.acc.has(binSeconds)) this.acc.set(binSeconds, { counts: new Map(), speeds: [] });
  }

  closeBin(cameraId: string, bin: Bin): DomainEvent<CountIntervalData> {
    for (const id of [...this.unsettled.keys()]) this.settle(id);
    const acc = this.acc.get(bin.binSeconds) ?? { counts: new Map<string, number>(), speeds: [] };
    this.acc.delete(bin.binSeconds);
    // Every direction × counted class, zeros included: 0 is a measurement, an absent row would not be.
    const counts = (['backward', 'forward'] as const)
      .flatMap((direction) => [...(this.classes ?? OBJECT_CLASSES)].map((cls) => ({ direction, cls, count: acc.counts.get(`${direction}|${cls}`) ?? 0 })))
      .sort((x, y) => (x.direction + x.cls).localeCompare(y.direction + y.cls));
    return {
      type: 'count.interval',
      cameraId,
      timeMs: bin.endMs,
      data: { ...binFields(cameraId, bin), lineId: this.id, counts, meanSpeedKmh: mean(acc.speeds) },
    };
  }

  /**
   * Feed one frame of a lost track (its box is the tracker's prediction). A vehicle lost in spray
   * just before the line, whose box is never found again (or is found by a new track
   * past the line, which the line cannot count), crossed the line where its motion took it: this
   * keeps the first such predicted crossing, for endTrack. Only a vehicle that has shown it is
   * traffic and has travelled, heading across, its predicted size still its own.
   */
  observeLost(tv: TrackView, tMs: number, traffic: boolean, travelled: boolean): void {
    const st = this.tracks.get(tv.id);
    if (!this.opts.coastAcross || !st || st.coasted || st.side === 0 || !st.prev || st.prevMs === null || st.pending !== null || !tv.isVehicle || !traffic || !travelled) return;
    if (tMs - st.prevMs > COAST_ACROSS_MS) return;
    if (tv.boxRel.h < COAST_SIZE_RATIO * st.prevH || COAST_SIZE_RATIO * tv.boxRel.h > st.prevH) return;
    const p = tv.anchorRel;
    const d = dot(sub(p, this.a), this.n);
    if (d * st.side >= 0 || Math.abs(d) < this.minTravel) return;
    const raw = d > 0 ? 1 : -1;
    const direction: Direction = raw > 0 ? 'forward' : 'backward';
    if (st.counted.has(direction) || dot(tv.velocityRel, this.n) * raw <= 0) return;
    if (this.classes && !this.classes.has(tv.cls)) return;
    const dPrev = dot(sub(st.prev, this.a), this.n);
    const f = dPrev / (dPrev - d);
    const q = { x: st.prev.x + f * (p.x - st.prev.x), y: st.prev.y + f * (p.y - st.prev.y) };
    const t = dot(sub(q, this.a), this.u) / this.len;
    if (t < -0.01 || t > 1.01) return;
    st.coasted = { direction, tMs: st.prevMs + f * (tMs - st.prevMs), t, tv, viewMs: tMs };
  }

  /** The track ended unseen since its predicted crossing: that crossing counts, unless another track counted the vehicle. */
  private countCoasted(st: LineTrackState): LineCrossing | null {
    const c = st.coasted;
    if (!c || st.counted.has(c.direction)) return null;
    const span = this.spanOf(c.tv.boxRel);
    const lastSeenMs = st.prevMs ?? c.tMs;
    // Found again: a crossing there since it was last seen (one before was another vehicle's).
    if (this.recentCrossings.some((r) => r.tMs >= lastSeenMs && this.sameStretch(r, c.direction, c.tMs, span))) return null;
    st.pending = c.direction;
    st.pendingFromBirth = false;
    st.lastCrossT = c.t;
    st.lastCrossMs = c.tMs;
    return this.countPending(st, c.tv, c.viewMs, true);
  }

  /** A counted crossing the same way within COAST_SAME_MS over half the same stretch of the line: one vehicle, if one was coasted. */
  private sameStretch(r: CountedSpan, direction: Direction, tMs: number, span: [number, number]): boolean {
    return overSameStretch(r, direction, tMs, span, COAST_SAME_MS, COAST_SAME_COVER);
  }

  /** The track ended: a crossing still waiting after a gap, not gone back, or a coasted one, counts (returned). */
  endTrack(id: number): LineCrossing | null {
    const st = this.tracks.get(id);
    const last = st?.afterGap?.lastView ?? null;
    const crossing = st && last ? this.countPending(st, last.tv, last.tMs) : st ? this.countCoasted(st) : null;
    this.tracks.delete(id);
    this.pendingSpeed.delete(id);
    this.settle(id);
    return crossing;
  }

  totalsSinceStart(): { forward: number; backward: number } {
    return { ...this.totals };
  }

  stateSize(): number {
    return this.tracks.size + this.pendingSpeed.size + this.unsettled.size;
  }
}
