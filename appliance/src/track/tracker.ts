// ByteTrack-style multi-object tracker: Kalman prediction, then two-stage association (high-score
// detections first, low-score ones only to keep existing tracks alive) solved with the Hungarian
// method on IoU cost. Young and lost tracks are matched with a buffered IoU (C-BIoU) because their
// predicted position is uncertain, which keeps tracks alive at the low frame rates (5 fps) an edge
// box analyses. Input and output are plain data; the input is never mutated.
import { TWO_WHEELER_CLASSES, type Box, type Detection, type Point, type FrameDetections, type FrameTracks, type ObjectClass, type Track, type TrackStatus } from '../core/types.js';
import type { TrackerStage } from '../core/stages.js';
import { assign } from './hungarian.js';
import { DEFAULT_RIDER_SPEED, fuseRiders, riderClass, type RiderSpeedOptions } from './riders.js';
import { DEFAULT_SIZE_CLASS, RollingMedian, VehicleSizeModel, heavyBySize, narrowBySize, type SizeClassOptions } from './size-class.js';
import { anchorOf, coverage, intersectionArea } from '../core/box.js';
import { DEFAULT_REFIND, extendTrail, refindCost, trailVelocity, type LostTrack, type RefindOptions, type TrailPoint } from './refind.js';
import { DEFAULT_KALMAN_NOISE, initiate, predict, update, type BoxMeasurement, type KalmanNoise, type KalmanState } from './kalman.js';

export interface TrackerOptions {
  /** Detections at or above this score take part in the first association (ByteTrack track_thresh). */
  highScore: number;
  /** Detections below this score are ignored altogether. */
  lowScore: number;
  /** A new track starts only from an unmatched detection at or above this score. */
  newTrackScore: number;
  /** Max cost (1 − IoU) in the first association. */
  matchCost: number;
  /** Max cost in the second (low-score) association: stricter, these detections are doubtful. */
  lowMatchCost: number;
  /** Max cost when matching tentative tracks. */
  tentativeMatchCost: number;
  /** Hits needed before a track is confirmed (and output). */
  minHits: number;
  /**
   * ...and at least this long after its first detection (s), so a higher analysed fps does not
   * confirm flicker sooner: 2 hits at 5 fps, 3 at 10 fps with 0.2.
   */
  minConfirmSeconds: number;
  /** A track unmatched this many frames in a row is removed. */
  maxLostFrames: number;
  /** ...and no longer than this since its last box (s): at a low frame rate 30 frames is long; null: frames only. */
  maxLostSeconds: number | null;
  /**
   * A box lying at least this share inside the box of a confirmed track of the same kind (person,
   * two-wheeler, four-wheeler) matched in the same frame starts no track: it is a second box on that
   * road user (a rider's upper body, a car's lit rear), under the NMS's overlap; null: off.
   */
  nestedBirth: number | null;
  /**
   * A confirmed track whose box lies ≥ 90 % inside the box of a longer-seen confirmed track of the
   * same kind, in this many frames running, ends: it is a part of that road user (a box truck's
   * cab boxed on its own from the top edge); null: off.
   */
  nestedTrack: number | null;
  /** IoU buffer (fraction of w/h added on each side) for tracks without a reliable velocity yet. */
  youngBuffer: number;
  /** Extra buffer per missed frame, for lost tracks. */
  lostBufferPerFrame: number;
  maxBuffer: number;
  /** Include lost tracks (with their predicted box) in the output. */
  outputLost: boolean;
  /** Include tentative tracks in the output (off: consumers see confirmed and lost only). */
  outputTentative: boolean;
  /**
   * Hand tentative vehicle tracks on as confirmed, so consumers see a vehicle from its first box. At
   * 5 fps a vehicle first boxed just before a counting line is often past it by its second box, when
   * it is confirmed: a line that first sees it there cannot count it. Matching and survival stay those
   * of a tentative track (stage 3, dropped at its first miss), so a single flicker box is seen for one
   * frame and never counted: a crossing needs a box on each side.
   */
  visibleFromFirstBox: boolean;
  /**
   * Detections overlapping a higher-scored one by at least this IoU are dropped whatever their
   * class: detectors run NMS per class, so one vehicle can come as both 'car' and 'truck', which
   * would otherwise start two tracks (and count twice). 1 disables.
   */
  duplicateIou: number;
  /** Fuse a person riding a bicycle or motorcycle into one detection of the two-wheeler (track/riders.ts). */
  riderFusion: boolean;
  /** Name a fast 'person' track a two-wheeler (its vehicle was never boxed); null disables. */
  riderSpeed: RiderSpeedOptions | null;
  /** Name a car box much taller than the cars usually seen at its row a truck (track/size-class.ts); null disables. */
  sizeClass: SizeClassOptions | null;
  /**
   * A lost track (matched at least 3 times) is not matched to a detection whose centre is more than
   * this many box heights (the smaller of the two boxes) from its predicted centre; null disables.
   */
  maxJump: number | null;
  /**
   * A track lost for LOST_CLASS_GATE_FRAMES or more is not re-acquired by a detection of the other
   * kind (a person's track by a car, a car's by a person; two-wheelers go with either): after a gap,
   * identity rests on the class too. Without it, a track on a faint static box by the roadside voted
   * 'person' took a passing car's confident box (sf-freeway-night with detector.enhance=auto) and
   * named the car a pedestrian on the carriageway.
   */
  lostClassGate: boolean;
  /**
   * A lost track that has travelled may take a box no other track took where its own recent motion
   * would have brought it, though the box no longer overlaps its prediction: a vehicle hidden in
   * spray for 1–3 s keeps its identity (track/refind.ts); null disables.
   */
  refind: RefindOptions | null;
  /** Remove a lost track as soon as its predicted box centre is outside the frame. */
  dropLeftFrame: boolean;
  /** Time step used for the first prediction when timestamps do not advance (s). */
  minDtSeconds: number;
  noise: KalmanNoise;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  // Tuned on the hand-counted dev set (bench/counts.ts) with the default detector
  // (person-vehicle-bike-detection-2003 at score 0.15, whose two-wheelers score 0.2–0.45).
  highScore: 0.15,
  lowScore: 0.1,
  newTrackScore: 0.2,
  matchCost: 0.8,
  lowMatchCost: 0.5,
  tentativeMatchCost: 0.7,
  minHits: 2,
  minConfirmSeconds: 0.2,
  maxLostFrames: 30,
  // 3 s, what 30 frames are at 10 fps (so 10 fps is unchanged) and as long as re-finding looks back:
  // at 5 fps 30 frames let a walker's track lost at jakarta-scooters 11.4 s coast 6 s and take a
  // rider's box past the line, a pedestrian count. 4 s let a track lost at 13.6 s take a box 4 s
  // later, 70 px from its prediction (a count for the wrong vehicle).
  maxLostSeconds: 3,
  // 0.9: on the counts dev set it only takes out a campus cyclist's second count (its upper body's
  // track); 0.8 also lost a car at sf-freeway-night.
  nestedBirth: 0.9,
  // 2: on the counts dev set it only takes out the cdnet box truck's second count, at 5 and 10 fps.
  nestedTrack: 2,
  youngBuffer: 1.0,
  lostBufferPerFrame: 0.1,
  maxBuffer: 1.0,
  outputLost: true,
  outputTentative: false,
  visibleFromFirstBox: true,
  minDtSeconds: 1e-3,
  dropLeftFrame: true,
  maxJump: 1,
  lostClassGate: true,
  refind: DEFAULT_REFIND,
  sizeClass: DEFAULT_SIZE_CLASS,
  duplicateIou: 0.7,
  riderFusion: true,
  riderSpeed: DEFAULT_RIDER_SPEED,
  noise: DEFAULT_KALMAN_NOISE,
};

/** Internal state of one track. Never handed out: output tracks are fresh copies. */
interface TrackState {
  id: number;
  kf: KalmanState;
  status: TrackStatus;
  /** Score-weighted class votes over the track's life; the output class is the arg max. */
  votes: Map<ObjectClass, number>;
  /** Box height over the camera's usual car height at that row, per matched car box (track/size-class.ts). */
  sizeRatios: RollingMedian;
  /** Box width over the usual car width at that row, per matched car box not cut by a side edge. */
  widthRatios: RollingMedian;
  /** Width over height of the same boxes. */
  aspects: RollingMedian;
  /** Set once a 'person' track is seen moving at vehicle speed: it is riding this. */
  rider: ObjectClass | null;
  score: number;
  age: number;
  hits: number;
  /** Consecutive frames without a match. */
  missed: number;
  firstSeenMs: number;
  /** Ground point of its first box, its last matched box and its recent ground points (track/refind.ts). */
  firstPoint: Point;
  lastBox: Box;
  /** Frame time of its last box. */
  lastSeenMs: number;
  trail: TrailPoint[];
  /** Share of its last box inside a box another track took in the same frame (track/refind.ts maxCovered). */
  lastCovered: number;
  /** Frames running its box lay inside a longer-seen track's box of the same kind. */
  nestedFrames: number;
}

/** Size ratios kept per track (the most recent). */
const MAX_SIZE_RATIOS = 50;

export class MultiObjectTracker implements TrackerStage {
  private readonly opts: TrackerOptions;
  private tracks: TrackState[] = [];
  private nextId = 1;
  private lastMs: number | null = null;
  /** Learnt over the camera's life (a stream gap does not move the camera). */
  private readonly sizes: VehicleSizeModel | null;
  private frameHeight = 0;
  private frameWidth = 0;
  private nowMs = 0;
  /** What each track took in the last frame, and whether the box started it (re-finding's maxCovered; diagnostics: bench/counts-misses.ts). */
  private lastLinks = new Map<number, { detection: Detection; status: TrackStatus; born: boolean }>();

  constructor(opts: Partial<TrackerOptions> = {}) {
    this.opts = { ...DEFAULT_TRACKER_OPTIONS, ...opts, noise: { ...DEFAULT_TRACKER_OPTIONS.noise, ...(opts.noise ?? {}) } };
    if (this.opts.lowScore > this.opts.highScore) throw new RangeError('lowScore must be ≤ highScore');
    if (this.opts.minHits < 1) throw new RangeError('minHits must be ≥ 1');
    if (this.opts.maxLostFrames < 0) throw new RangeError('maxLostFrames must be ≥ 0');
    this.sizes = this.opts.sizeClass ? new VehicleSizeModel(this.opts.sizeClass) : null;
  }

  /** Number of tracks held in memory (tentative, confirmed and lost): bounded by what is in view. */
  stateSize(): number {
    return this.tracks.length;
  }

  /**
   * Track id → the detection (after rider fusion) it was matched to or born from in the last frame
   * processed, and its own status then (a tentative track is output as confirmed when visibleFromFirstBox).
   */
  lastFrameLinks(): ReadonlyMap<number, { detection: Detection; status: TrackStatus; born: boolean }> {
    return this.lastLinks;
  }

  /**
   * Largest share of this track's box in the last frame inside a box another existing track took in
   * that frame (boxes that started new tracks are left out): re-finding's maxCovered.
   */
  private coveredInLastFrame(id: number): number {
    const own = this.lastLinks.get(id);
    if (!own) return 0;
    let c = 0;
    for (const [other, l] of this.lastLinks) if (other !== id && !l.born) c = Math.max(c, coverage(own.detection.box, l.detection.box));
    return c;
  }

  /** Forgets every track (a stream gap: nothing can be matched across it). */
  close(): void {
    this.tracks = [];
    this.lastMs = null;
  }

  process(fd: FrameDetections): FrameTracks {
    const o = this.opts;
    const dt = this.lastMs === null ? o.minDtSeconds : Math.max((fd.timestampMs - this.lastMs) / 1000, o.minDtSeconds);
    this.lastMs = this.lastMs === null ? fd.timestampMs : Math.max(this.lastMs, fd.timestampMs);

    for (const t of this.tracks) {
      // A track that has not moved in size keeps a sane height; a collapsing one would blow up noise.
      predict(t.kf, dt, o.noise);
      if (t.kf.x[3]! < 1) t.kf.x[3] = 1; // x has 8 entries
      t.age++;
    }

    const usable = fd.detections.filter((d) => isFiniteBox(d.box) && d.box.w > 0 && d.box.h > 0 && d.score >= o.lowScore);
    const valid = dropDuplicates(o.riderFusion ? fuseRiders(usable) : usable, o.duplicateIou);
    this.frameHeight = fd.height;
    this.frameWidth = fd.width;
    this.nowMs = fd.timestampMs;
    const high = valid.filter((d) => d.score >= o.highScore);
    const low = valid.filter((d) => d.score < o.highScore);

    const matched = new Set<TrackState>();
    const links = new Map<TrackState, Detection>();
    const active = this.tracks.filter((t) => t.status !== 'tentative');
    const tentative = this.tracks.filter((t) => t.status === 'tentative');

    // Stage 1: high-score detections against confirmed and lost tracks.
    const s1 = this.associate(active, high, o.matchCost, true);
    for (const [t, d] of s1.matches) this.apply(t, d, matched, links);
    let remainingHigh = s1.unmatchedDets;
    // Stage 1b: lost tracks re-find their vehicle among the boxes no track took (track/refind.ts).
    if (o.refind) {
      const rf = o.refind;
      const s1b = this.refind(s1.unmatchedTracks.filter((t) => t.status === 'lost' && t.hits >= 3 && t.lastCovered < rf.maxCovered), remainingHigh, rf);
      for (const [t, d] of s1b.matches) this.apply(t, d, matched, links);
      remainingHigh = s1b.unmatchedDets;
    }

    // Stage 2: low-score detections only rescue tracks that were being tracked last frame
    // (ByteTrack: occluded objects give low scores; lost tracks are not revived by doubtful boxes).
    const tracked = s1.unmatchedTracks.filter((t) => t.status === 'confirmed');
    const s2 = this.associate(tracked, low, o.lowMatchCost, false);
    for (const [t, d] of s2.matches) this.apply(t, d, matched, links);

    // Stage 3: remaining high-score detections against tentative tracks.
    const s3 = this.associate(tentative, remainingHigh, o.tentativeMatchCost, true);
    for (const [t, d] of s3.matches) this.apply(t, d, matched, links);
    remainingHigh = s3.unmatchedDets;

    this.sizes?.learn(valid, fd.height, fd.width);
    const absorbed = o.nestedTrack !== null ? this.partsOfOthers(links, o.nestedTrack) : new Set<TrackState>();

    // Unmatched tracks: tentative ones die at once, confirmed ones become lost, lost ones age out.
    const kept: TrackState[] = [];
    for (const t of this.tracks) {
      if (absorbed.has(t)) continue;
      if (!matched.has(t)) {
        t.missed++;
        if (t.status === 'tentative') continue;
        // Just lost: how its last box sat among the boxes the other tracks took in that frame.
        if (t.missed === 1 && o.refind) t.lastCovered = this.coveredInLastFrame(t.id);
        t.status = 'lost';
        if (t.missed > o.maxLostFrames || (o.maxLostSeconds !== null && fd.timestampMs - t.lastSeenMs > o.maxLostSeconds * 1000)) continue;
        // A lost track predicted out of the picture has left it: kept, it would only steal the
        // detections of the next vehicle coming in at that edge.
        if (o.dropLeftFrame && leftFrame(stateBox(t.kf), fd.width, fd.height)) continue;
      }
      kept.push(t);
    }
    this.lastLinks = new Map([...links].map(([t, d]) => [t.id, { detection: d, status: t.status, born: false }]));
    const nested = o.nestedBirth;
    const taken = nested !== null ? [...links].filter(([t]) => t.status === 'confirmed').map(([, d]) => d) : [];
    for (const d of remainingHigh) {
      if (d.score < o.newTrackScore) continue;
      if (nested !== null && taken.some((k) => kindOf(k.cls) === kindOf(d.cls) && intersectionArea(k.box, d.box) >= nested * d.box.w * d.box.h)) continue;
      const t = this.newTrack(d, fd.timestampMs);
      this.lastLinks.set(t.id, { detection: d, status: t.status, born: true });
      kept.push(t);
    }
    this.tracks = kept;

    const out: Track[] = [];
    for (const t of this.tracks) {
      if (t.status === 'lost' && !o.outputLost) continue;
      const track = this.toTrack(t);
      if (t.status === 'tentative' && !o.outputTentative && track.status === 'tentative') continue;
      out.push(track);
    }
    return { cameraId: fd.cameraId, seq: fd.seq, timestampMs: fd.timestampMs, width: fd.width, height: fd.height, tracks: out };
  }

  /**
   * Confirmed tracks whose box this frame lies inside the box of a longer-seen confirmed track of the
   * same kind, for the given number of frames running: a part of that road user (a box truck's cab).
   */
  private partsOfOthers(links: ReadonlyMap<TrackState, Detection>, frames: number): Set<TrackState> {
    const out = new Set<TrackState>();
    const ts: TrackState[] = [];
    const bs: Box[] = [];
    const ks: Kind[] = [];
    for (const [t, d] of links) {
      if (t.status !== 'confirmed') continue;
      ts.push(t);
      bs.push(d.box);
      ks.push(kindOf(d.cls));
    }
    // Every pair, in plain loops: 200 tracks are 40,000 pairs a frame, nearly all rejected on x.
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i] as TrackState; // i < ts.length, and bs, ks have the same length
      const a = bs[i] as Box;
      const need = PART_INSIDE * a.w * a.h;
      let inside = false;
      for (let j = 0; j < ts.length && !inside; j++) {
        const b = bs[j] as Box;
        const u = ts[j] as TrackState;
        if (j === i || u.hits <= t.hits || b.x >= a.x + a.w || b.x + b.w <= a.x || ks[j] !== ks[i]) continue;
        inside = intersectionArea(a, b) >= need && movesWith(t, u, b.h);
      }
      t.nestedFrames = inside ? t.nestedFrames + 1 : 0;
      if (t.nestedFrames >= frames) out.add(t);
    }
    return out;
  }

  /** Matched (track, detection) pairs and the tracks and detections left over. */
  private associate(tracks: TrackState[], dets: Detection[], maxCost: number, buffered: boolean) {
    const cost: number[][] = tracks.map((t) => {
      const tb = stateBox(t.kf);
      const b = buffered ? this.bufferOf(t) : 0;
      const kind = t.missed >= LOST_CLASS_GATE_FRAMES && this.opts.lostClassGate ? this.kindOf(t) : null;
      return dets.map((d) => (this.jumps(t, tb, d.box) || (kind !== null && clashes(kind, kindOf(d.cls))) ? 1 : 1 - bufferedIou(tb, d.box, b)));
    });
    const a =
      tracks.length === 0 || dets.length === 0
        ? { matches: [] as Array<[number, number]>, unmatchedRows: tracks.map((_, i) => i), unmatchedCols: dets.map((_, j) => j) }
        : assign(cost, maxCost);
    return {
      matches: a.matches.map(([i, j]): [TrackState, Detection] => [itemAt(tracks, i), itemAt(dets, j)]),
      unmatchedTracks: a.unmatchedRows.map((i) => itemAt(tracks, i)),
      unmatchedDets: a.unmatchedCols.map((j) => itemAt(dets, j)),
    };
  }

  /** Lost tracks × boxes left over, by where each track's own motion would have brought it (class gate as in associate). */
  private refind(tracks: TrackState[], dets: Detection[], rf: RefindOptions) {
    const cost = tracks.map((t) => {
      const kind = this.opts.lostClassGate && t.missed >= LOST_CLASS_GATE_FRAMES ? this.kindOf(t) : null;
      const last = t.trail[t.trail.length - 1];
      const lost: LostTrack = { first: t.firstPoint, last: t.lastBox, velocity: trailVelocity(t.trail), lostS: last ? (this.nowMs - last.ms) / 1000 : 0 };
      return dets.map((d) => (kind !== null && clashes(kind, kindOf(d.cls)) ? 1 : refindCost(lost, d.box, rf)));
    });
    if (tracks.length === 0 || dets.length === 0) return { matches: [] as Array<[TrackState, Detection]>, unmatchedDets: dets };
    // Every cost under 1 is an allowed pair.
    const a = assign(cost, 0.999);
    return {
      matches: a.matches.map(([i, j]): [TrackState, Detection] => [itemAt(tracks, i), itemAt(dets, j)]),
      unmatchedDets: a.unmatchedCols.map((j) => itemAt(dets, j)),
    };
  }

  /**
   * A lost track with a known motion whose predicted box is far from the detection: another vehicle
   * (the buffered gate reaches one box size around a track lost for a while), not this one. Measured
   * in the smaller of the two heights, so a small far track cannot leap onto a big near vehicle
   * passing over it (nor the other way round).
   */
  private jumps(t: TrackState, predicted: Box, d: Box): boolean {
    const o = this.opts;
    if (o.maxJump === null || t.missed === 0 || t.hits < 3) return false;
    const dx = d.x + d.w / 2 - (predicted.x + predicted.w / 2);
    const dy = d.y + d.h / 2 - (predicted.y + predicted.h / 2);
    return Math.hypot(dx, dy) > o.maxJump * Math.min(predicted.h, d.h);
  }

  /**
   * What a track surely is, for the lost-track class gate: a person (not seen riding), a four-wheeler
   * (no two-wheeler vote, not narrow for its row), else a two-wheeler, which matches either.
   */
  private kindOf(t: TrackState): Kind {
    const voted = kindOf(votedClass(t.votes));
    if (voted === 'person') return t.rider ? 'two-wheeler' : 'person';
    if (voted === 'two-wheeler' || TWO_WHEELER_CLASSES.some((c) => t.votes.has(c))) return 'two-wheeler';
    if (this.opts.sizeClass && narrowBySize(t.widthRatios, t.aspects, this.opts.sizeClass)) return 'two-wheeler';
    return 'four-wheeler';
  }

  private bufferOf(t: TrackState): number {
    const o = this.opts;
    let b = t.hits < 2 ? o.youngBuffer : 0;
    b += t.missed * o.lostBufferPerFrame;
    return Math.min(b, o.maxBuffer);
  }

  private apply(t: TrackState, d: Detection, matched: Set<TrackState>, links: Map<TrackState, Detection>): void {
    update(t.kf, boxToZ(d.box), this.opts.noise);
    t.hits++;
    t.missed = 0;
    t.lastBox = d.box;
    t.lastSeenMs = this.nowMs;
    extendTrail(t.trail, this.nowMs, d.box, this.opts.refind?.trailMs ?? 0);
    t.score = d.score;
    t.votes.set(d.cls, (t.votes.get(d.cls) ?? 0) + d.score);
    const ratio = this.sizes?.ratio(d, this.frameHeight) ?? null;
    if (ratio !== null) {
      t.sizeRatios.push(ratio);
    }
    const wr = this.sizes?.widthRatio(d, this.frameWidth, this.frameHeight) ?? null;
    if (wr !== null) {
      t.widthRatios.push(wr);
      t.aspects.push(d.box.w / d.box.h);
    }
    if (t.status === 'lost') t.status = 'confirmed';
    else if (t.status === 'tentative' && t.hits >= this.opts.minHits && this.nowMs - t.firstSeenMs >= this.opts.minConfirmSeconds * 1000 - 1) t.status = 'confirmed';
    matched.add(t);
    links.set(t, d);
  }

  private newTrack(d: Detection, ms: number): TrackState {
    const t: TrackState = {
      id: this.nextId++,
      kf: initiate(boxToZ(d.box), this.opts.noise),
      status: this.opts.minHits <= 1 ? 'confirmed' : 'tentative',
      votes: new Map([[d.cls, d.score]]),
      sizeRatios: new RollingMedian(MAX_SIZE_RATIOS),
      widthRatios: new RollingMedian(MAX_SIZE_RATIOS),
      aspects: new RollingMedian(MAX_SIZE_RATIOS),
      rider: null,
      score: d.score,
      age: 0,
      hits: 1,
      missed: 0,
      firstSeenMs: ms,
      firstPoint: anchorOf(d.box),
      lastBox: d.box,
      lastSeenMs: ms,
      trail: [{ ms, ...anchorOf(d.box) }],
      lastCovered: 0,
      nestedFrames: 0,
    };
    return t;
  }

  private toTrack(t: TrackState): Track {
    let cls = votedClass(t.votes);
    const box = stateBox(t.kf);
    if (cls === 'car' && this.opts.sizeClass) {
      if (heavyBySize(t.sizeRatios, this.opts.sizeClass)) cls = 'truck';
      else if (narrowBySize(t.widthRatios, t.aspects, this.opts.sizeClass)) cls = 'motorcycle';
    }
    if (cls === 'person' && this.opts.riderSpeed) {
      // Sticky: a rider who stops at a light is still a rider. The speed estimate settles over the
      // first frames, so a bicycle verdict may still become a motorcycle, never the other way.
      const now = riderClass(Math.hypot(t.kf.x[4]!, t.kf.x[5]!), box.h, t.hits, this.opts.riderSpeed);
      if (now === 'motorcycle' || (now && !t.rider)) t.rider = now;
      cls = t.rider ?? cls;
    }
    return {
      id: t.id,
      cls,
      box,
      score: t.score,
      // A person is not handed on early: a person box seen for one frame beside a two-wheeler is
      // mostly its rider before fusion pairs them (and a walker is not past a line in one frame).
      status: t.status === 'tentative' && this.opts.visibleFromFirstBox && cls !== 'person' ? 'confirmed' : t.status,
      velocity: { x: t.kf.x[4]!, y: t.kf.x[5]! },
      age: t.age,
      hits: t.hits,
      firstSeenMs: t.firstSeenMs,
    };
  }
}

/** A gap of one or two frames is box flicker (a scooter boxed 'vehicle', then its rider 'person'). */
const LOST_CLASS_GATE_FRAMES = 3;

type Kind = 'person' | 'four-wheeler' | 'two-wheeler';

/** Share of a track's box inside another's that makes it a part of that road user (nestedTrack). */
const PART_INSIDE = 0.9;

/**
 * A part moves with its whole: `outer` under way (a fifth of its height a second or more) and
 * `inner` going the same way (within 45°) at half to twice its speed. Velocities of a track seen in
 * every other frame are rough (at 5 fps the cab's was 2x the truck's), so no closer. A scooter that a
 * car overtakes in the picture, or one waiting beside it in a queue, does not move with it.
 */
function movesWith(inner: TrackState, outer: TrackState, outerHeight: number): boolean {
  const vx = outer.kf.x[4]!;
  const vy = outer.kf.x[5]!;
  const ux = inner.kf.x[4]!;
  const uy = inner.kf.x[5]!;
  const speed = Math.hypot(vx, vy);
  const own = Math.hypot(ux, uy);
  if (speed < 0.2 * outerHeight || own < 0.5 * speed || own > 2 * speed) return false;
  return (ux * vx + uy * vy) / (own * speed) >= Math.SQRT1_2;
}

function kindOf(cls: ObjectClass): Kind {
  if (cls === 'person') return 'person';
  return TWO_WHEELER_CLASSES.includes(cls) ? 'two-wheeler' : 'four-wheeler';
}

/** A person and a car, bus or truck are never the same road user (a two-wheeler can be boxed as either). */
function clashes(a: Kind, b: Kind): boolean {
  return (a === 'person' && b === 'four-wheeler') || (a === 'four-wheeler' && b === 'person');
}

/** The class with the most score-weighted votes. */
function votedClass(votes: ReadonlyMap<ObjectClass, number>): ObjectClass {
  let cls: ObjectClass = 'car';
  let best = -1;
  for (const [c, v] of votes) {
    if (v > best) {
      best = v;
      cls = c;
    }
  }
  return cls;
}

/** items[i] for an index of the cost matrix built from items; out of range is a bug, not data. */
function itemAt<T>(items: readonly T[], i: number): T {
  const item = items[i];
  if (item === undefined) throw new RangeError(`assignment index ${i} outside a list of ${items.length}`);
  return item;
}

function boxToZ(b: Box): BoxMeasurement {
  return [b.x + b.w / 2, b.y + b.h / 2, b.w / b.h, b.h];
}

function stateBox(kf: KalmanState): Box {
  const [cx = 0, cy = 0, a = 0, h = 0] = kf.x; // x has 8 entries: the defaults never apply
  const w = Math.max(a, 1e-3) * h;
  return { x: cx - w / 2, y: cy - h / 2, w, h };
}

/** Class-agnostic suppression of near-identical boxes (keeps the higher score; input untouched). */
function dropDuplicates(dets: Detection[], maxIou: number): Detection[] {
  if (maxIou >= 1 || dets.length < 2) return dets;
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) if (!kept.some((k) => bufferedIou(k.box, d.box) >= maxIou)) kept.push(d);
  return kept;
}

function leftFrame(b: Box, width: number, height: number): boolean {
  const cx = b.x + b.w / 2;
  const cy = b.y + b.h / 2;
  return width > 0 && height > 0 && (cx < 0 || cy < 0 || cx > width || cy > height);
}

function isFiniteBox(b: Box): boolean {
  return Number.isFinite(b.x) && Number.isFinite(b.y) && Number.isFinite(b.w) && Number.isFinite(b.h);
}

/** IoU of two boxes each grown by `buffer` × its size on every side (C-BIoU). */
export function bufferedIou(a: Box, b: Box, buffer = 0): number {
  const ax = a.x - buffer * a.w, ay = a.y - buffer * a.h, aw = a.w * (1 + 2 * buffer), ah = a.h * (1 + 2 * buffer);
  const bx = b.x - buffer * b.w, by = b.y - buffer * b.h, bw = b.w * (1 + 2 * buffer), bh = b.h * (1 + 2 * buffer);
  const iw = Math.min(ax + aw, bx + bw) - Math.max(ax, bx);
  const ih = Math.min(ay + ah, by + bh) - Math.max(ay, by);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / (aw * ah + bw * bh - inter);
}
