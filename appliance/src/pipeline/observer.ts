// What a camera pipeline reports about itself, kept out of the conductor: metrics and fps
// accounting live here, so CameraPipeline only moves frames from stage to stage.
import { CAMERA_STATES, HEALTH_CHECKS, INCIDENT_KINDS, type CameraState, type HealthCheck, type IncidentKind } from '../core/types.js';
import { initCamera, type Metrics } from '../metrics/registry.js';

export interface PipelineObserver {
  frameDecoded(): void;
  frameDropped(): void;
  /** A frame went through every stage; `inferenceSeconds` is the detector's share. */
  frameAnalysed(inferenceSeconds: number, confirmedTracks: number, incidentsOpen: ReadonlyMap<IncidentKind, number>): void;
  state(state: CameraState, reason: string): void;
  /** Capture → analysis of the frame just analysed, ms. */
  lag(ms: number): void;
  /** The camera cannot (true) or can again (false) hold its configured fps. */
  overloaded(flag: boolean): void;
  /** The picture-health checks open now (the others are closed). */
  health(open: ReadonlySet<HealthCheck>): void;
  /** Analysed frames per second over the last window. */
  fps(nowMs?: number): number;
}

/** Analysed frames per second over a sliding window. */
export class FpsMeter {
  private readonly times: number[] = [];
  constructor(private readonly windowMs = 10_000) {}

  tick(nowMs = Date.now()): void {
    this.times.push(nowMs);
  }

  fps(nowMs = Date.now()): number {
    while (this.times.length > 0 && nowMs - this.times[0]! > this.windowMs) this.times.shift();
    if (this.times.length < 2) return 0;
    const span = (nowMs - this.times[0]!) / 1000;
    return Math.round((this.times.length / Math.max(span, 1)) * 100) / 100;
  }
}

/** The Prometheus side of one camera (labels: camera id only, plus state/kind enums). */
export class MetricsObserver implements PipelineObserver {
  private readonly meter = new FpsMeter();
  private readonly label: { camera: string };

  constructor(
    private readonly metrics: Metrics,
    private readonly cameraId: string,
  ) {
    this.label = { camera: cameraId };
    // Every labelled counter of the camera exists at 0 from the start, so increase() sees its first event.
    initCamera(metrics, cameraId);
  }

  frameDecoded(): void {
    this.metrics.framesDecoded.inc(this.label);
  }

  frameDropped(): void {
    this.metrics.framesDropped.inc(this.label);
  }

  frameAnalysed(inferenceSeconds: number, confirmedTracks: number, incidentsOpen: ReadonlyMap<IncidentKind, number>): void {
    const m = this.metrics;
    this.meter.tick();
    m.inferenceSeconds.observe(this.label, inferenceSeconds);
    m.framesAnalysed.inc(this.label);
    m.cameraFps.set(this.label, this.meter.fps());
    m.tracksActive.set(this.label, confirmedTracks);
    for (const kind of INCIDENT_KINDS) m.incidentsOpen.set({ camera: this.cameraId, kind }, incidentsOpen.get(kind) ?? 0);
  }

  state(state: CameraState): void {
    const m = this.metrics;
    for (const s of CAMERA_STATES) m.cameraState.set({ camera: this.cameraId, state: s }, s === state ? 1 : 0);
    m.cameraUp.set(this.label, state === 'streaming' ? 1 : 0);
    if (state === 'backoff') m.cameraRestarts.inc(this.label);
  }

  lag(ms: number): void {
    this.metrics.cameraLag.set(this.label, ms / 1000);
    this.metrics.cameraLagSeconds.observe(this.label, ms / 1000);
  }

  overloaded(flag: boolean): void {
    this.metrics.cameraOverloaded.set(this.label, flag ? 1 : 0);
  }

  health(open: ReadonlySet<HealthCheck>): void {
    for (const check of HEALTH_CHECKS) this.metrics.cameraHealthProblem.set({ camera: this.cameraId, check }, open.has(check) ? 1 : 0);
  }

  fps(nowMs?: number): number {
    return this.meter.fps(nowMs);
  }
}

/** For replays and benchmarks that want no metrics: counts fps only. */
export class QuietObserver implements PipelineObserver {
  private readonly meter = new FpsMeter();
  frameDecoded(): void {}
  frameDropped(): void {}
  frameAnalysed(): void {
    this.meter.tick();
  }
  state(): void {}
  lag(): void {}
  overloaded(): void {}
  health(): void {}
  fps(nowMs?: number): number {
    return this.meter.fps(nowMs);
  }
}
