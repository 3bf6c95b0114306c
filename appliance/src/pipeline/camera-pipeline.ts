// One camera end to end: ingest → detect → track → analytics → events.
// Frames arrive at the camera's fps; when the detector is still busy with an earlier frame of this
// camera, the newest frame waits in a one-frame slot and older waiting frames are dropped (counted).
import type { CameraConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { CameraState, Detection, DomainEvent, Frame, IncidentKind } from '../core/types.js';

export const INCIDENT_KINDS: IncidentKind[] = ['stopped-vehicle', 'wrong-way', 'queue', 'pedestrian-on-carriageway'];
import { CameraStream, safeUrl, type BackoffPolicy, type ConnectGate } from '../ingest/index.js';
import type { Metrics } from '../metrics/registry.js';
import { MultiObjectTracker } from '../track/index.js';
import { CameraAnalytics, type CalibrationFile, type LiveSummary } from '../analytics/index.js';
import type { DetectorQueue } from './detector-queue.js';

export interface EventPublisher {
  publish(events: DomainEvent[]): Promise<void>;
}

export interface CameraPipelineDeps {
  detector: DetectorQueue;
  metrics: Metrics;
  log: Logger;
  events: EventPublisher;
  binSeconds: number[];
  calibration: CalibrationFile | null;
  backoff?: BackoffPolicy;
  /** Bounds how many cameras connect at once (shared by every camera of the manager). */
  gate?: ConnectGate;
}

export interface CameraStatus {
  id: string;
  name: string | null;
  url: string;
  state: CameraState;
  stateSince: string;
  reason: string;
  fps: number;
  restarts: number;
  framesDecoded: number;
  framesAnalysed: number;
  framesDropped: number;
  lastFrameAt: string | null;
  calibrated: boolean;
  width: number;
  height: number;
}

/** The last analysed frame with what was detected in it: the raw input of the snapshot route. */
export interface AnalysedFrame {
  frame: Frame;
  detections: Detection[];
}

export const CAMERA_STATES: CameraState[] = ['connecting', 'streaming', 'stalled', 'backoff', 'stopped'];

export class CameraPipeline {
  private readonly stream: CameraStream;
  private tracker: MultiObjectTracker;
  private analytics: CameraAnalytics;
  private calibration: CalibrationFile | null;
  private busy = false;
  private waiting: Frame | null = null;
  private last: AnalysedFrame | null = null;
  private analysed = 0;
  private dropped = 0;
  private readonly analysedTimes: number[] = [];
  private publishing: Promise<void> = Promise.resolve();
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private wasStreaming = false;

  constructor(
    private cfg: CameraConfig,
    private readonly deps: CameraPipelineDeps,
  ) {
    const config = cfg;
    this.calibration = deps.calibration;
    const m = deps.metrics;
    const label = { camera: config.id };
    this.tracker = new MultiObjectTracker();
    this.analytics = new CameraAnalytics({ camera: config, binSeconds: deps.binSeconds, calibration: deps.calibration });
    this.stream = new CameraStream({
      cameraId: config.id,
      url: config.url,
      fps: config.fps,
      width: config.width,
      height: config.height,
      stallSeconds: config.stallSeconds,
      backoff: deps.backoff ?? { initialMs: 1000, maxMs: 30_000 },
      gate: deps.gate,
      log: deps.log,
      onFrame: (f) => {
        m.framesDecoded.inc(label);
        this.offer(f);
      },
      onState: (state, reason) => {
        for (const s of CAMERA_STATES) m.cameraState.set({ camera: config.id, state: s }, s === state ? 1 : 0);
        m.cameraUp.set(label, state === 'streaming' ? 1 : 0);
        if (state === 'backoff') m.cameraRestarts.inc(label);
        if (state === 'streaming') this.wasStreaming = true;
        if ((state === 'stalled' || state === 'backoff') && this.wasStreaming) this.streamLost();
        this.emit([{ type: 'camera.state', cameraId: config.id, timeMs: Date.now(), data: { cameraId: config.id, state, reason } }]);
      },
    });
  }

  get config(): CameraConfig {
    return this.cfg;
  }

  start(): void {
    this.stream.start();
  }

  /**
   * New lines, zones, rules or calibration on a running camera: the stream and the tracker keep going,
   * the old analytics closes its open intervals and incidents, and the new one takes over.
   */
  reconfigure(next: CameraConfig, calibration: CalibrationFile | null, binSeconds: number[]): void {
    // Built before anything is replaced: if it throws, the running analytics stays.
    const analytics = new CameraAnalytics({ camera: next, binSeconds, calibration });
    this.emit(this.analytics.flush(Date.now()));
    this.cfg = next;
    this.calibration = calibration;
    this.analytics = analytics;
  }

  /** Stops ingest, lets the frame in analysis finish, closes the open intervals and incidents. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.waiting = null;
    await this.stream.stop();
    await this.running;
    this.emit(this.analytics.flush(Date.now()));
    await this.publishing;
  }

  /**
   * The picture is gone: close the open intervals and incidents now rather than when frames return
   * (maybe hours later), and forget the tracks, which cannot be matched across the gap. The last frame
   * stays for the installer's snapshot; the camera's state says it is not live.
   */
  private streamLost(): void {
    this.wasStreaming = false;
    this.waiting = null;
    void this.running.then(() => {
      if (this.stopped) return;
      this.emit(this.analytics.flush(Date.now()));
      this.tracker = new MultiObjectTracker();
    });
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
    const s = this.stream.status();
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
      width: this.config.width,
      height: this.config.height,
    };
  }

  /** Analysed frames per second over the last 10 s. */
  fps(now = Date.now()): number {
    while (this.analysedTimes.length > 0 && now - this.analysedTimes[0] > 10_000) this.analysedTimes.shift();
    if (this.analysedTimes.length < 2) return 0;
    const span = (now - this.analysedTimes[0]) / 1000;
    return Math.round((this.analysedTimes.length / Math.max(span, 1)) * 100) / 100;
  }

  private offer(frame: Frame): void {
    if (this.stopped) return;
    if (this.busy) {
      if (this.waiting) {
        this.dropped++;
        this.deps.metrics.framesDropped.inc({ camera: this.config.id });
      }
      this.waiting = frame;
      return;
    }
    this.running = this.analyse(frame);
  }

  private async analyse(frame: Frame): Promise<void> {
    this.busy = true;
    const label = { camera: this.config.id };
    try {
      const endTimer = this.deps.metrics.inferenceSeconds.startTimer(label);
      const detections = await this.deps.detector.detect(frame);
      endTimer();
      const tracks = this.tracker.update({
        cameraId: frame.cameraId,
        seq: frame.seq,
        timestampMs: frame.timestampMs,
        width: frame.width,
        height: frame.height,
        detections,
      });
      this.emit(this.analytics.update(tracks));
      this.last = { frame, detections };
      this.analysed++;
      this.analysedTimes.push(Date.now());
      this.deps.metrics.framesAnalysed.inc(label);
      this.deps.metrics.cameraFps.set(label, this.fps());
      this.deps.metrics.tracksActive.set(label, tracks.tracks.filter((t) => t.status === 'confirmed').length);
      this.updateIncidentGauge();
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message }, 'analysis of a frame failed');
    } finally {
      this.busy = false;
    }
    const next = this.waiting;
    this.waiting = null;
    if (next && !this.stopped) await this.analyse(next);
  }

  private updateIncidentGauge(): void {
    const open = new Map<IncidentKind, number>(INCIDENT_KINDS.map((k) => [k, 0]));
    for (const i of this.analytics.openIncidents()) open.set(i.kind, (open.get(i.kind) ?? 0) + 1);
    for (const [kind, n] of open) this.deps.metrics.incidentsOpen.set({ camera: this.cfg.id, kind }, n);
  }

  private emit(events: DomainEvent[]): void {
    if (events.length === 0) return;
    // Keep the order of events of this camera: publish one batch after the other.
    this.publishing = this.publishing
      .then(() => this.deps.events.publish(events))
      .catch((err: unknown) => this.deps.log.error({ err: (err as Error).message, events: events.length }, 'could not store events'));
  }
}
