// One camera end to end: FrameSource → Detector → Tracker → Analytics → Publisher (core/stages.ts).
// The pipeline is the conductor only: every stage is injected, the drop policy is LatestFrameSlot,
// and metrics and fps accounting live in the PipelineObserver.
import type { CameraConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { AnalyticsStage, DetectorStage, FrameSource, Publisher, TrackerStage } from '../core/stages.js';
import type { CameraStatus } from '../core/camera-status.js';
import type { CameraState, DataQualityFlag, Detection, DomainEvent, Frame, IncidentKind } from '../core/types.js';
import { safeUrl } from '../ingest/index.js';
import type { CalibrationFile, LiveSummary } from '../analytics/index.js';
import { isDeepStrictEqual } from 'node:util';
import { CameraHealthMonitor, healthConfigOf } from '../health/index.js';
import { HEALTH_NOT_MONITORED } from '../core/health-status.js';
import { HEALTH_CHECKS, type HealthCheck } from '../core/types.js';
import { LatestFrameSlot } from './frame-slot.js';
import { takesNewest } from './detector-queue.js';
import { cameraView } from '../detect/roi.js';
import { DEFAULT_LOAD_POLICY, LoadMonitor, type LoadPolicy } from './load-monitor.js';
import type { PipelineObserver } from './observer.js';

/**
 * The analytics a camera runs: the stage contract, the live view the API shows, and the interval
 * clock's side doors (a lost stream keeps its bins open, flagged; the clock closes them meanwhile).
 */
export type CameraAnalyticsStage = AnalyticsStage & {
  liveSummary(): LiveSummary;
  streamGap(nowMs: number): DomainEvent[];
  tick(nowMs: number): DomainEvent[];
  markFlag(flag: DataQualityFlag, atMs: number): void;
};

export interface CameraStages {
  source: FrameSource;
  /** Shared by every camera: never closed by one. */
  detector: DetectorStage;
  /** Shared by every camera: never closed by one. */
  publisher: Publisher;
  /** Picture health checks on the analysed frames (absent in replays). */
  health?: CameraHealthMonitor;
  createTracker(): TrackerStage;
  createAnalytics(camera: CameraConfig, calibration: CalibrationFile | null, binSeconds: number[]): CameraAnalyticsStage;
  observer: PipelineObserver;
  log: Logger;
  /** The camera's clock (ms since epoch): the wall clock live, the clip's own time in a replay. */
  now?: () => number;
  /** When the camera counts as overloaded (dropped share, lag); defaults in load-monitor.ts. */
  load?: Partial<LoadPolicy>;
}

export type { CameraStatus };

/** A frame out of the slot, with the callback that settles its offer once it is analysed or dropped. */
type Taken = NonNullable<ReturnType<LatestFrameSlot['take']>>;

/** The last analysed frame with what was detected in it: the raw input of the snapshot route. */
export interface AnalysedFrame {
  frame: Frame;
  detections: Detection[];
}

export class CameraPipeline {
  private tracker: TrackerStage;
  private analytics: CameraAnalyticsStage;
  private readonly slot = new LatestFrameSlot();
  private readonly load: LoadMonitor;
  private busy = false;
  private last: AnalysedFrame | null = null;
  private analysed = 0;
  private dropped = 0;
  private publishing: Promise<void> = Promise.resolve();
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private wasStreaming = false;
  private ticker: NodeJS.Timeout | null = null;

  constructor(
    private cfg: CameraConfig,
    private readonly stages: CameraStages,
    private calibration: CalibrationFile | null,
    binSeconds: number[],
  ) {
    this.tracker = stages.createTracker();
    this.analytics = stages.createAnalytics(cfg, calibration, binSeconds);
    this.load = new LoadMonitor({ ...DEFAULT_LOAD_POLICY, ...stages.load });
  }

  private now(): number {
    return this.stages.now?.() ?? Date.now();
  }

  get config(): CameraConfig {
    return this.cfg;
  }

  start(): void {
    this.reportHealth();
    this.stages.source.start({
      frame: (f) => this.offer(f),
      state: (state, reason) => this.onState(state, reason),
    });
    // While the stream is down no frame closes the intervals: the clock does (flagged 'stream-gap').
    this.ticker = setInterval(() => {
      if (!this.busy && !this.stopped) this.emit(this.analytics.tick(this.now()));
    }, 1000);
    this.ticker.unref();
  }

  /**
   * New lines, zones, rules or calibration on a running camera: the stream and the tracker keep going,
   * the old analytics closes its open intervals and incidents, and the new one takes over.
   */
  reconfigure(next: CameraConfig, calibration: CalibrationFile | null, binSeconds: number[]): void {
    // Built before anything is replaced: if it throws, the running analytics stays.
    const analytics = this.stages.createAnalytics(next, calibration, binSeconds);
    this.emit(this.analytics.close(this.now()));
    // New lines or calibration: the installer drew them on the view as it is now, the new reference.
    const redrawn = !isDeepStrictEqual([next.lines, next.zones], [this.cfg.lines, this.cfg.zones]) || !isDeepStrictEqual(calibration, this.calibration);
    this.cfg = next;
    this.calibration = calibration;
    this.analytics = analytics;
    this.stages.health?.configure(healthConfigOf(next));
    if (redrawn) this.retakeHealthReference();
  }

  /** The installer confirms the view as it is now: the health reference is learned again from it. */
  retakeHealthReference(): void {
    const health = this.stages.health;
    if (!health) return;
    this.emit(health.retakeReference(this.now()));
    this.reportHealth();
  }

  healthMonitor(): CameraHealthMonitor | null {
    return this.stages.health ?? null;
  }

  /** Stops the source, lets the frame in analysis finish, closes the open intervals and incidents. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.slot.clear();
    await this.stages.source.close();
    await this.running;
    const now = this.now();
    this.emit([...this.analytics.close(now), ...(this.stages.health?.closeAll(now) ?? [])]);
    this.tracker.close();
    await this.publishing;
  }

  /** Resolves when every frame offered so far is analysed and its events are stored. */
  async idle(): Promise<void> {
    await this.running;
    await this.publishing;
  }

  /** The calibration in force (null: no speeds). */
  calibrationInUse(): CalibrationFile | null {
    return this.calibration;
  }

  lastAnalysed(): AnalysedFrame | null {
    return this.last;
  }

  live(): LiveSummary {
    return this.analytics.liveSummary();
  }

  status(): CameraStatus {
    const s = this.stages.source.status();
    const load = this.load.state();
    return {
      id: this.cfg.id,
      name: this.cfg.name ?? null,
      url: safeUrl(this.cfg.url),
      state: s.state,
      stateSince: new Date(s.since).toISOString(),
      reason: s.reason,
      fps: this.fps(),
      restarts: s.restarts,
      framesDecoded: s.framesDecoded,
      framesAnalysed: this.analysed,
      framesDropped: this.dropped,
      lastFrameAt: s.lastFrameAt ? new Date(s.lastFrameAt).toISOString() : null,
      calibrated: this.calibration !== null,
      width: this.cfg.width,
      height: this.cfg.height,
      health: this.stages.health?.status() ?? HEALTH_NOT_MONITORED,
      lagSeconds: load.lagMs === null ? null : load.lagMs / 1000,
      overloaded: load.overloaded,
    };
  }

  /** Analysed frames per second over the last 10 s. */
  fps(now = Date.now()): number {
    return this.stages.observer.fps(now);
  }

  private onState(state: CameraState, reason: string): void {
    this.stages.observer.state(state, reason);
    if (state === 'streaming') this.wasStreaming = true;
    if ((state === 'stalled' || state === 'backoff') && this.wasStreaming) this.streamLost();
    const id = this.cfg.id;
    this.emit([{ type: 'camera.state', cameraId: id, timeMs: this.now(), data: { cameraId: id, state, reason } }]);
  }

  /**
   * The picture is gone: open incidents close now, and the tracks are forgotten (they cannot be matched
   * across the gap). The open intervals keep running, flagged 'stream-gap': a reconnect within the
   * interval continues it, and the ticker emits the ones that end meanwhile. The last frame stays for
   * the installer's snapshot; the camera's state says it is not live.
   */
  private streamLost(): void {
    this.wasStreaming = false;
    if (this.slot.clear()) this.countDrop();
    if (this.load.reset()) this.reportLoad();
    void this.running.then(() => {
      if (this.stopped) return;
      this.stages.health?.streamLost();
      this.emit(this.analytics.streamGap(this.now()));
      this.tracker.close();
    });
  }

  /** Flags the intervals running at atMs (camera health checks call this). */
  markFlag(flag: DataQualityFlag, atMs: number = this.now()): void {
    this.analytics.markFlag(flag, atMs);
  }

  /** A frame from the source; resolves once it is analysed or dropped. */
  private offer(frame: Frame): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stages.observer.frameDecoded();
    return new Promise<void>((settled) => {
      // Drop at the source: a frame still waiting when a newer one comes is never analysed.
      if (this.slot.put(frame, settled)) this.countDrop();
      if (!this.busy) this.running = this.drain();
    });
  }

  /** The analysis loop: one frame at a time, always the newest waiting one. */
  private async drain(): Promise<void> {
    this.busy = true;
    try {
      for (let next = this.slot.take(); next; next = this.slot.take()) {
        const analysed = this.stopped ? next : await this.analyse(next);
        analysed.settled();
      }
    } finally {
      this.busy = false;
    }
  }

  /** Detects in ref's frame, or in a newer one that came while this camera waited for the shared detector (then ref holds that one). */
  private async detect(ref: { taken: Taken }): Promise<{ detections: Detection[]; inferenceSeconds: number }> {
    const detector = this.stages.detector;
    let t0 = performance.now();
    if (!takesNewest(detector)) {
      const detections = await detector.process(cameraView(this.cfg, ref.taken.frame));
      return { detections, inferenceSeconds: (performance.now() - t0) / 1000 };
    }
    const detections = await detector.processNewest(this.cfg.id, () => {
      const newer = this.slot.take();
      if (newer) {
        ref.taken.settled();
        this.countDrop();
        ref.taken = newer;
      }
      t0 = performance.now();
      return cameraView(this.cfg, ref.taken.frame);
    });
    return { detections, inferenceSeconds: (performance.now() - t0) / 1000 };
  }

  /** Analyses a frame taken from the slot; returns the one actually analysed (it may be newer). */
  private async analyse(taken: Taken): Promise<Taken> {
    const ref = { taken };
    try {
      const { detections, inferenceSeconds } = await this.detect(ref);
      const frame = ref.taken.frame;
      const tracks = this.tracker.process({
        cameraId: frame.cameraId,
        seq: frame.seq,
        timestampMs: frame.timestampMs,
        width: frame.width,
        height: frame.height,
        detections,
      });
      // Health first: the intervals of this frame carry the flags of the problems open now.
      const health = this.stages.health;
      if (health) {
        const healthEvents = health.observe(frame, detections);
        if (healthEvents.length) {
          for (const e of healthEvents) this.stages.log.warn({ check: e.data.check, state: e.data.state, measures: e.data.measures }, 'camera picture health');
          this.emit(healthEvents);
          this.reportHealth();
        }
      }
      this.emit(this.analytics.process(tracks));
      for (const flag of health?.flags() ?? []) this.analytics.markFlag(flag, frame.timestampMs);
      this.last = { frame, detections };
      this.analysed++;
      if (this.load.analysed(this.now(), frame.timestampMs)) this.reportLoad();
      this.stages.observer.lag(this.load.state().lagMs ?? 0);
      const open = new Map<IncidentKind, number>();
      for (const i of this.analytics.openIncidents()) open.set(i.kind, (open.get(i.kind) ?? 0) + 1);
      this.stages.observer.frameAnalysed(inferenceSeconds, tracks.tracks.filter((t) => t.status === 'confirmed').length, open);
    } catch (err) {
      this.stages.log.error({ err: (err as Error).message, seq: ref.taken.frame.seq }, 'analysis of a frame failed');
    }
    return ref.taken;
  }

  private reportHealth(): void {
    const health = this.stages.health;
    if (health) this.stages.observer.health(new Set(HEALTH_CHECKS.filter((c: HealthCheck) => health.isOpen(c))));
  }

  private countDrop(): void {
    this.dropped++;
    this.stages.observer.frameDropped();
    if (this.load.droppedAt(this.now())) this.reportLoad();
  }

  /** The camera starts or stops keeping up with its configured fps: metric and one log line. */
  private reportLoad(): void {
    const { overloaded, dropShare, lagMs } = this.load.state();
    this.stages.observer.overloaded(overloaded);
    const measures = { fps: this.cfg.fps, analysedFps: this.fps(), droppedShare: Math.round(dropShare * 1000) / 1000, lagSeconds: lagMs === null ? null : lagMs / 1000 };
    if (overloaded) this.stages.log.warn(measures, 'camera overloaded: the box cannot hold its configured fps, frames are dropped');
    else this.stages.log.info(measures, 'camera keeps up with its configured fps again');
  }

  private emit(events: DomainEvent[]): void {
    if (events.length === 0) return;
    // Keep the order of events of this camera: publish one batch after the other.
    this.publishing = this.publishing
      .then(() => this.stages.publisher.process(events))
      .catch((err: unknown) => this.stages.log.error({ err: (err as Error).message, events: events.length }, 'could not store events'));
  }
}
