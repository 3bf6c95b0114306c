// The per-camera analytics façade the pipeline calls once per frame of tracks: counting lines, zones,
// turning movements, speeds and incident rules, all binned into wall-clock intervals.
import { Value } from '@sinclair/typebox/value';
import { IncidentRulesSchema, type CameraConfig, type IncidentRulesConfig } from '../config/schema.js';
import { VEHICLE_CLASSES, type DataQualityFlag, type DomainEvent, type FrameTracks, type Point } from '../core/types.js';
import { groundMapper, type CalibrationFile } from '../../../calibration/file.js';
import type { AnalyticsStage } from '../core/stages.js';
import { BinClock, type Bin } from './bins.js';
import { CountingLine, type LineCrossing } from './counting-line.js';
import { anchorOf, coverage } from '../core/box.js';
import {
  IncidentManager,
  PedestrianOnCarriagewayRule,
  QueueRule,
  StoppedVehicleRule,
  WrongWayRule,
  type IncidentRule,
  type OpenIncidentSummary,
} from './incidents.js';
import { CollisionRule } from './incidents-collision.js';
import { TrafficState } from './incidents-traffic.js';
import { DEFAULT_MOTION_OPTIONS, TrackMotion, type MotionEstimate } from './motion.js';
import { SpeedStats } from './speed.js';
import type { FrameContext, GroundMapper, TrackView } from './types.js';
import { MovementCounter, ZoneCounter, ZoneShape } from './zones.js';
import { TrackEvidence } from './evidence.js';
import { LaneAnalytics, type LaneTrack } from './lanes.js';

export { loadCalibration, buildCalibration, rescaleCalibration, groundMapper, type CalibrationFile } from '../../../calibration/file.js';
export { CalibrationError } from '../../../calibration/homography.js';
export { CountingLine, type LineCrossing, type Direction } from './counting-line.js';
export { ZoneCounter, ZoneShape, MovementCounter } from './zones.js';
export { StoppedVehicleRule, WrongWayRule, QueueRule, PedestrianOnCarriagewayRule, IncidentManager } from './incidents.js';
export { CollisionRule } from './incidents-collision.js';
export { TrafficState } from './incidents-traffic.js';
export { TrackMotion } from './motion.js';
export { BinClock } from './bins.js';
export type { TrackView, FrameContext, GroundMapper } from './types.js';
export { LaneAnalytics, lengthClassOf, DEFAULT_LANE_SETTINGS, type LaneTrack, type LaneFrame } from './lanes.js';

/** A lost track whose last box lay this much inside another road user's box is not coasted over a line. */
const COAST_MAX_COVERED = 0.5;

export interface CameraAnalyticsOptions {
  camera: CameraConfig;
  binSeconds: number[];
  calibration: CalibrationFile | null;
  /** Window of the anchor speed fit (s). */
  speedWindowSeconds?: number;
  /** Frames a track must spend on the other side of a zone edge before its membership flips. */
  zoneDebounceFrames?: number;
  /** Every counted line crossing once its class is final (at track end or when an interval closes; benchmarks match them one by one against hand counts), with the lane it crossed in. */
  onCrossing?: (crossing: LineCrossing & { laneId: string | null }) => void;
  /** IANA zone the bins align to (default UTC). */
  timeZone?: string;
  /** A vehicle lost just before a line whose prediction goes on across counts (default true; off to measure the tracker alone). */
  coastAcross?: boolean;
}

export interface LiveSummary {
  cameraId: string;
  timestampMs: number | null;
  /** Confirmed tracks in the last frame. */
  tracks: number;
  /** Counts since start, per line and direction. */
  lines: Array<{ lineId: string; forward: number; backward: number }>;
  zones: Array<{ zoneId: string; occupancy: number }>;
  movements: Array<{ fromZone: string; toZone: string; cls: string; count: number }>;
  /** Mean speed of the vehicles in view with a calibrated speed, km/h. */
  meanSpeedKmh: number | null;
  openIncidents: OpenIncidentSummary[];
  calibrated: boolean;
}

export class CameraAnalytics implements AnalyticsStage {
  readonly cameraId: string;
  private readonly clock: BinClock;
  private readonly lines: CountingLine[];
  private readonly zones: ZoneShape[];
  private readonly zoneCounters: ZoneCounter[];
  private readonly movements: MovementCounter;
  private readonly speeds = new SpeedStats();
  private readonly motion: TrackMotion;
  private readonly lastMotion = new Map<number, MotionEstimate>();
  /** What each track has shown of being traffic (the incident rules' and the loops' evidence gate). */
  private readonly evidence: TrackEvidence;
  private readonly incidents: IncidentManager;
  private readonly calibration: CalibrationFile | null;
  private mapper: { w: number; h: number; m: GroundMapper } | null = null;
  /** Track ids present in the previous frame; one missing from a frame has been dropped by the tracker. */
  private known = new Set<number>();
  private last: { tMs: number; tracks: TrackView[] } | null = null;
  /** Lost tracks: the share of their last seen box inside another road user's box in that frame (coverAtLoss). */
  private readonly coverAtLoss = new Map<number, number>();
  /** A frame has come since the stream (re)started: the lines know which tracks they saw arrive. */
  private streaming = false;

  private readonly onCrossing: CameraAnalyticsOptions['onCrossing'];
  private readonly lanes: LaneAnalytics;
  /** Tracks held by open queue incidents (lane queue lengths), by incident id. */
  private readonly queued = new Map<string, number[]>();

  constructor(opts: CameraAnalyticsOptions) {
    const cam = opts.camera;
    this.onCrossing = opts.onCrossing;
    this.cameraId = cam.id;
    this.clock = new BinClock(opts.binSeconds, { timeZone: opts.timeZone });
    this.calibration = opts.calibration;
    this.lines = (cam.lines ?? []).map((l) => new CountingLine(l, { coastAcross: opts.coastAcross ?? true }));
    this.zones = (cam.zones ?? []).map((z) => new ZoneShape(z));
    this.zoneCounters = this.zones.map((z) => new ZoneCounter(z, opts.zoneDebounceFrames ?? 2));
    this.movements = new MovementCounter(new Set(this.zones.filter((z) => z.kind === 'area').map((z) => z.id)));
    this.motion = new TrackMotion({ ...DEFAULT_MOTION_OPTIONS, windowSeconds: opts.speedWindowSeconds ?? DEFAULT_MOTION_OPTIONS.windowSeconds });
    const rules = withDefaults(cam.incidents);
    this.evidence = new TrackEvidence(rules.minEvidenceScore);
    const traffic = new TrafficState(rules.stoppedVehicle, this.zones, cam.stopLines ?? []);
    const list: IncidentRule[] = [];
    if (rules.collision.enabled) list.push(new CollisionRule(rules.collision, this.zones, traffic));
    if (rules.stoppedVehicle.enabled) list.push(new StoppedVehicleRule(rules.stoppedVehicle, this.zones, traffic, rules.collision.peopleRadiusLengths));
    if (rules.wrongWay.enabled) list.push(new WrongWayRule(rules.wrongWay, this.zones));
    if (rules.queue.enabled) list.push(new QueueRule(rules.queue, this.zones, traffic));
    if (rules.pedestrian.enabled) list.push(new PedestrianOnCarriagewayRule(rules.pedestrian, this.zones));
    this.incidents = new IncidentManager(cam.id, list, rules.clearSeconds, rules.updateSeconds, traffic);
    this.lanes = new LaneAnalytics(cam.id, { lanes: cam.lanes ?? [], lines: cam.lines ?? [], settings: cam.laneData, timeZone: opts.timeZone });
  }

  process(ft: FrameTracks): DomainEvent[] {
    const events: DomainEvent[] = [];
    const tMs = ft.timestampMs;
    if (!this.streaming) {
      this.streaming = true;
      for (const l of this.lines) l.streamStarted(tMs);
    }
    const present = ft.tracks.filter((t) => t.status !== 'tentative');

    // 1. Tracks the tracker dropped end now, in the bins they were last seen in.
    const ids = new Set(present.map((t) => t.id));
    this.endTracks([...this.known].filter((id) => !ids.has(id)));
    this.known = ids;

    // 2. Intervals this frame has passed are complete.
    events.push(...this.closeBins(this.clock.closeUntil(tMs)));
    this.clock.openAt(tMs);
    for (const b of this.clock.binSeconds) this.openBin(b);

    // 3. Geometry of every track, once.
    const mapper = this.mapperFor(ft.width, ft.height);
    const views: TrackView[] = present.map((t) => {
      const anchorPx = anchorOf(t.box);
      const anchorRel = { x: anchorPx.x / ft.width, y: anchorPx.y / ft.height };
      const ground = mapper ? mapper.toGround(anchorPx) : null;
      let est: MotionEstimate;
      if (t.status === 'confirmed') {
        this.evidence.observe(t.id, t.score, anchorPx, t.box.h);
        est = this.motion.observe(t.id, tMs, anchorPx, ground);
        this.lastMotion.set(t.id, est);
      } else {
        // A lost track's box is a prediction: keep its last measured speed, add no samples.
        est = this.lastMotion.get(t.id) ?? { speedPxPerSec: null, speedKmh: null };
      }
      return {
        id: t.id,
        cls: t.cls,
        status: t.status,
        isVehicle: VEHICLE_CLASSES.includes(t.cls),
        anchorPx,
        boxPx: t.box,
        firstSeenMs: t.firstSeenMs,
        anchorRel,
        ground,
        velocityRel: { x: t.velocity.x / ft.width, y: t.velocity.y / ft.height },
        boxRel: { x: t.box.x / ft.width, y: t.box.y / ft.height, w: t.box.w / ft.width, h: t.box.h / ft.height },
        speedPxPerSec: est.speedPxPerSec,
        speedKmh: mapper ? est.speedKmh : null,
        zones: this.zones.filter((z) => z.contains(anchorRel)).map((z) => z.id),
      };
    });

    // 4. Lines, zones, movements, speeds.
    for (const tv of views) {
      // A lost track's box is the tracker's prediction: the line keeps where it went (counted only if
      // never seen again). Not for one lost inside another road user's box: a part of it (a van's
      // roof rack boxed on its own), or hidden behind it; that one's own track is what is counted.
      if (tv.status === 'lost' && this.lines.length > 0 && this.coveredAtLoss(tv.id) < COAST_MAX_COVERED) {
        for (const line of this.lines) line.observeLost(tv, tMs, this.evidence.isTraffic(tv.id), this.evidence.travelled(tv.id));
      }
      if (tv.status !== 'confirmed') continue;
      this.coverAtLoss.delete(tv.id);
      for (const line of this.lines) {
        const crossing = line.observe(tv, tMs, this.evidence.isTraffic(tv.id), this.evidence.travelled(tv.id));
        if (crossing) this.toLanes(crossing);
      }
      this.movements.updateClass(tv.id, tv.cls);
      this.lanes.reclassify(tv.id, tv.cls);
    }
    const clsOf = new Map(views.map((v) => [v.id, v.cls]));
    for (const zc of this.zoneCounters) {
      for (const tr of zc.observeFrame(views, tMs)) if (tr.kind === 'entry') this.movements.onEntry(tr, clsOf.get(tr.trackId) ?? 'car');
    }
    this.speeds.observeFrame(views);

    // 5. Incidents.
    const ctx: FrameContext = {
      cameraId: this.cameraId,
      tMs,
      width: ft.width,
      height: ft.height,
      groundOfRel: mapper ? (rel: Point) => mapper.toGround({ x: rel.x * ft.width, y: rel.y * ft.height }) : null,
      tracks: views.filter((v) => this.evidence.confident(v.id)),
    };
    const incidentEvents = this.incidents.step(ctx);
    events.push(...incidentEvents);

    // 6. Lanes (after incidents: a queue detected in this frame has its length in the lanes).
    this.noteQueues(incidentEvents);
    events.push(...this.lanes.process({ tMs, tracks: laneTracks(present.filter((t) => this.evidence.isTraffic(t.id)), views, ft.width, ft.height), groundOfRel: ctx.groundOfRel, queuedTrackIds: new Set([...this.queued.values()].flat()) }));
    this.last = { tMs, tracks: views };
    this.flushCrossings();
    return events;
  }

  /** Crossings whose class has settled, to the onCrossing listener (benchmarks), with the lane they crossed in. */
  private flushCrossings(): void {
    for (const line of this.lines) {
      for (const c of line.takeSettled()) this.onCrossing?.({ ...c, laneId: this.lanes.laneAt(c.at) });
    }
  }

  /**
   * End of stream (shutdown, stall, reconfiguration): every track ends, every open interval is
   * emitted (the last one partial) and open incidents close. Safe to follow with a new tracker.
   */
  close(nowMs: number): DomainEvent[] {
    this.endTracks([...this.known]);
    this.known = new Set();
    const events: DomainEvent[] = [...this.closeBins(this.clock.closeAll(nowMs)), ...this.lanes.close(nowMs), ...this.incidents.closeAll(nowMs)];
    this.queued.clear();
    this.last = null;
    this.streaming = false;
    this.flushCrossings();
    return events;
  }

  /**
   * The stream is lost: tracks end (they cannot be matched across the gap) and open incidents close
   * (nobody watches them), but the open intervals keep running, flagged 'stream-gap', so a reconnect
   * does not split a bin. tick() emits the intervals that end while the stream is down.
   */
  streamGap(nowMs: number): DomainEvent[] {
    this.endTracks([...this.known]);
    this.known = new Set();
    this.clock.streamGap(nowMs);
    this.lanes.streamGap(nowMs);
    this.queued.clear();
    this.last = null;
    this.streaming = false;
    this.flushCrossings();
    return this.incidents.closeAll(nowMs, 'stream-lost');
  }

  /** Wall-clock tick while frames are absent: intervals that ended during a gap are emitted. */
  tick(nowMs: number): DomainEvent[] {
    const laneEvents = this.lanes.tick(nowMs);
    const closed = this.clock.tick(nowMs);
    if (closed.length === 0) return laneEvents;
    const events = [...this.closeBins(closed), ...laneEvents];
    for (const b of this.clock.binSeconds) this.openBin(b);
    this.flushCrossings();
    return events;
  }

  /** Flags the intervals running at atMs (camera health and other data-quality checks). */
  markFlag(flag: DataQualityFlag, atMs: number): void {
    this.clock.markFlag(flag, atMs);
    this.lanes.markFlag(flag, atMs);
  }

  /** Incidents open now (cheap: called for every analysed frame). */
  openIncidents(): OpenIncidentSummary[] {
    return this.incidents.openIncidents();
  }

  liveSummary(): LiveSummary {
    const tracks = this.last?.tracks ?? [];
    const speeds = tracks.filter((t) => t.status === 'confirmed' && t.isVehicle && t.speedKmh !== null).map((t) => t.speedKmh as number);
    return {
      cameraId: this.cameraId,
      timestampMs: this.last?.tMs ?? null,
      tracks: tracks.filter((t) => t.status === 'confirmed').length,
      lines: this.lines.map((l) => ({ lineId: l.id, ...l.totalsSinceStart() })),
      zones: this.zoneCounters.map((z) => ({ zoneId: z.zone.id, occupancy: z.currentOccupancy() })),
      movements: this.movements.totalsSinceStart(),
      meanSpeedKmh: speeds.length ? Math.round((speeds.reduce((a, b) => a + b, 0) / speeds.length) * 10) / 10 : null,
      openIncidents: this.openIncidents(),
      calibrated: this.calibration !== null,
    };
  }

  /** Per-track entries held across all stages (bounded by the tracks in view). */
  stateSize(): number {
    return (
      this.known.size +
      this.motion.size() +
      this.lastMotion.size +
      this.coverAtLoss.size +
      this.lines.reduce((s, l) => s + l.stateSize(), 0) +
      this.zoneCounters.reduce((s, z) => s + z.stateSize(), 0) +
      this.movements.stateSize() +
      this.incidents.stateSize() +
      this.lanes.stateSize() +
      this.evidence.size()
    );
  }

  /**
   * The share of a lost track's last seen box inside another confirmed track's box in that frame;
   * measured at its first lost frame (the previous frame's views), 1 when that frame is not known.
   */
  private coveredAtLoss(id: number): number {
    let c = this.coverAtLoss.get(id);
    if (c === undefined) {
      const views = this.last?.tracks ?? [];
      const own = views.find((v) => v.id === id && v.status === 'confirmed');
      c = own ? Math.max(0, ...views.filter((v) => v !== own && v.status === 'confirmed').map((v) => coverage(own.boxPx, v.boxPx))) : 1;
      this.coverAtLoss.set(id, c);
    }
    return c;
  }

  /** A line's crossing to the lanes: its lane is where on the line it crossed (at 5 fps the anchor can be a lane's width further on). */
  private toLanes(crossing: LineCrossing): void {
    this.lanes.onCrossing({ ...crossing, anchor: crossing.at });
  }

  /**
   * Crossings the line took back when they settled leave the divider lanes too, so a lane's volume
   * agrees with its line's count (unless the lane's interval was emitted in between).
   */
  private withdrawFromLanes(line: CountingLine): void {
    for (const c of line.takeWithdrawn()) this.lanes.withdraw(c);
  }

  private endTracks(ids: number[]): void {
    if (ids.length === 0) return;
    for (const id of ids) {
      for (const zc of this.zoneCounters) zc.endTrack(id);
      this.movements.endTrack(id);
      for (const l of this.lines) {
        const crossing = l.endTrack(id);
        if (crossing) this.toLanes(crossing);
        this.withdrawFromLanes(l);
      }
      this.motion.forget(id);
      this.lastMotion.delete(id);
      this.coverAtLoss.delete(id);
      this.evidence.forget(id);
    }
    this.lanes.endTracks(ids);
    this.incidents.forget(ids);
  }

  private openBin(b: number): void {
    for (const l of this.lines) l.openBin(b);
    for (const z of this.zoneCounters) z.openBin(b);
    this.movements.openBin(b);
    this.speeds.openBin(b);
  }

  private closeBins(bins: Bin[]): DomainEvent[] {
    const events: DomainEvent[] = [];
    for (const bin of bins.sort((a, b) => a.endMs - b.endMs || a.binSeconds - b.binSeconds)) {
      for (const l of this.lines) {
        events.push(l.closeBin(this.cameraId, bin));
        this.withdrawFromLanes(l);
      }
      for (const z of this.zoneCounters) events.push(z.closeBin(this.cameraId, bin));
      if (this.movements && this.zones.some((z) => z.kind === 'area')) events.push(this.movements.closeBin(this.cameraId, bin));
      if (this.calibration) events.push(this.speeds.closeBin(this.cameraId, bin));
      else this.speeds.closeBin(this.cameraId, bin);
    }
    return events;
  }

  /** Open queue incidents and the tracks they hold (the lanes measure their queue lengths). */
  private noteQueues(events: DomainEvent[]): void {
    for (const e of events) {
      const d = e.data as { incidentId?: string; kind?: string; trackIds?: number[] };
      if (d.kind !== 'queue' || d.incidentId === undefined) continue;
      if (e.type === 'incident.closed') this.queued.delete(d.incidentId);
      else this.queued.set(d.incidentId, d.trackIds ?? []);
    }
  }

  private mapperFor(w: number, h: number): GroundMapper | null {
    if (!this.calibration) return null;
    if (!this.mapper || this.mapper.w !== w || this.mapper.h !== h) this.mapper = { w, h, m: groundMapper(this.calibration, w, h) };
    return this.mapper.m;
  }
}

/** The lane data's view of the tracks: boxes and anchors in relative coordinates, the calibrated speed. */
function laneTracks(present: FrameTracks['tracks'], views: TrackView[], w: number, h: number): LaneTrack[] {
  const speed = new Map(views.map((v) => [v.id, v.speedKmh]));
  return present.map((t) => ({
    id: t.id,
    cls: t.cls,
    status: t.status,
    box: { x: t.box.x / w, y: t.box.y / h, w: t.box.w / w, h: t.box.h / h },
    anchor: { x: (t.box.x + t.box.w / 2) / w, y: (t.box.y + t.box.h) / h },
    speedKmh: speed.get(t.id) ?? null,
  }));
}

/** Fill the rule defaults of the schema, so a hand-built CameraConfig works too. */
function withDefaults(cfg: Partial<IncidentRulesConfig> | undefined): IncidentRulesConfig {
  const v = Value.Default(IncidentRulesSchema, structuredClone(cfg ?? {})) as IncidentRulesConfig;
  return v;
}
