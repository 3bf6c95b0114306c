// Keeps the running cameras in line with the config: starts new ones, stops removed ones and
// restarts changed ones, leaving every other camera untouched.
import { dirname, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { IngestDefaults, LimitsDefaults, type CameraConfig, type Config, type IngestConfig } from '../config/schema.js';
import { cameraLogger, type Logger } from '../core/log.js';
import type { Metrics } from '../metrics/registry.js';
import { loadCalibration, type CalibrationFile } from '../analytics/index.js';
import { CameraAnalytics } from '../analytics/index.js';
import type { DetectorStage, FrameSource, Publisher } from '../core/stages.js';
import { CAMERA_STATES, HEALTH_CHECKS, INCIDENT_KINDS } from '../core/types.js';
import { CameraHealthMonitor, ReferenceStore, healthConfigOf } from '../health/index.js';
import { ConnectGate, RtspFrameSource, ffmpegVersion, resolveFfmpeg, type BackoffPolicy, type FfmpegBinary } from '../ingest/index.js';
import { MultiObjectTracker } from '../track/index.js';
import { CameraPipeline } from './camera-pipeline.js';
import { MetricsObserver } from './observer.js';

export interface CameraManagerDeps {
  /** Shared by every camera (a DetectorQueue in the appliance). */
  detector: DetectorStage;
  metrics: Metrics;
  log: Logger;
  events: Publisher;
  /** Folder that relative calibration paths are resolved against (the config file's). */
  baseDir: string;
  backoff?: BackoffPolicy;
  /** Where a camera's frames come from; the RTSP stream unless a replay is wired in. */
  createSource?: (cam: CameraConfig, log: Logger) => FrameSource;
  /** Folder of the camera health references (null/absent: not kept across restarts). */
  healthDir?: string | null;
}

export class CameraManager {
  private readonly running = new Map<string, CameraPipeline>();
  private binSeconds: number[] = [];
  private timeZone = 'UTC';
  private ingest: IngestConfig = IngestDefaults;
  private readonly healthStore: ReferenceStore | null;
  private readonly gate = new ConnectGate(LimitsDefaults.maxConnectingCameras);
  /** The decoder binary of the RTSP sources (resolved when the ingest config is applied). */
  private ffmpeg: FfmpegBinary | null = null;

  constructor(private readonly deps: CameraManagerDeps) {
    this.healthStore = deps.healthDir ? new ReferenceStore(deps.healthDir) : null;
  }

  get(id: string): CameraPipeline | undefined {
    return this.running.get(id);
  }

  list(): CameraPipeline[] {
    return [...this.running.values()];
  }

  async apply(config: Config): Promise<void> {
    const wanted = new Map(config.cameras.filter((c) => c.enabled).map((c) => [c.id, c]));
    const binsChanged = !isDeepStrictEqual(config.analytics.binSeconds, this.binSeconds) || config.analytics.timeZone !== this.timeZone;
    // A new decode setting restarts every stream (each ffmpeg is started with it).
    const ingestChanged = !isDeepStrictEqual(config.ingest, this.ingest);
    this.ingest = config.ingest;
    if (!this.deps.createSource) await this.chooseDecoder();
    this.binSeconds = [...config.analytics.binSeconds];
    this.timeZone = config.analytics.timeZone;
    this.gate.setLimit(config.limits.maxConnectingCameras);
    const stops: Promise<void>[] = [];
    const failed: string[] = [];
    const removed: string[] = [];
    for (const [id, p] of this.running) {
      const next = wanted.get(id);
      if (next && !binsChanged && isDeepStrictEqual(next, p.config)) continue;
      if (next && !ingestChanged && isDeepStrictEqual(streamOf(next), streamOf(p.config))) {
        // Only what is drawn, ruled or binned changed: keep the stream, swap the analytics.
        const log = cameraLogger(this.deps.log, id);
        try {
          p.reconfigure(next, this.calibrationOf(next, log), this.binSeconds);
        } catch (err) {
          log.error({ err: (err as Error).message }, 'camera not reconfigured');
          failed.push(`camera '${id}': ${(err as Error).message}`);
        }
        continue;
      }
      this.running.delete(id);
      stops.push(p.stop());
      this.clearMetrics(id);
      if (!config.cameras.some((c) => c.id === id)) removed.push(id);
    }
    await Promise.all(stops);
    // A deleted camera's health reference must not greet a new camera that reuses its id (a disabled one keeps it).
    for (const id of removed) this.healthStore?.forget(id);
    for (const [id, cam] of wanted) {
      if (this.running.has(id)) continue;
      const log = cameraLogger(this.deps.log, id);
      try {
        this.startCamera(cam, log);
      } catch (err) {
        // One camera that cannot start must not keep the others from starting.
        log.error({ err: (err as Error).message }, 'camera not started');
        failed.push(`camera '${id}': ${(err as Error).message}`);
      }
    }
    if (failed.length) throw new Error(failed.join('; '));
  }

  /** Re-reads a camera's calibration file (rewritten in place by the calibration API or the CLI). */
  recalibrate(id: string): void {
    const p = this.running.get(id);
    if (p) p.reconfigure(p.config, this.calibrationOf(p.config, cameraLogger(this.deps.log, id)), this.binSeconds);
  }

  private startCamera(cam: CameraConfig, log: Logger): void {
    const source = this.deps.createSource?.(cam, log) ?? this.rtspSource(cam, log);
    const p = new CameraPipeline(
      cam,
      {
        source,
        detector: this.deps.detector,
        publisher: this.deps.events,
        createTracker: () => new MultiObjectTracker(),
        // The zone in force when the analytics is built (a change of zone rebuilds every camera's).
        createAnalytics: (camera, calibration, binSeconds) => new CameraAnalytics({ camera, calibration, binSeconds, timeZone: this.timeZone }),
        observer: new MetricsObserver(this.deps.metrics, cam.id),
        health: new CameraHealthMonitor({ cameraId: cam.id, width: cam.width, height: cam.height, config: healthConfigOf(cam), store: this.healthStore }),
        log,
        load: { maxLagMs: this.ingest.maxLagSeconds * 1000 },
      },
      this.calibrationOf(cam, log),
      this.binSeconds,
    );
    this.running.set(cam.id, p);
    p.start();
  }

  /** Resolves the decoder binary; says which one (and its version) once, and again only when it changes. */
  private async chooseDecoder(): Promise<void> {
    const bin = resolveFfmpeg(this.ingest.hwaccel);
    if (this.ffmpeg && this.ffmpeg.path === bin.path) return;
    this.ffmpeg = bin;
    const version = await ffmpegVersion(bin.path);
    if (version) this.deps.log.info({ ffmpeg: bin.path, from: bin.from, version }, 'decoder');
    else this.deps.log.error({ code: 'ROADSIDE_ERR_STREAM_LOST', ffmpeg: bin.path, from: bin.from }, 'decoder cannot run: no camera can stream');
  }

  private rtspSource(cam: CameraConfig, log: Logger): FrameSource {
    return new RtspFrameSource({
      cameraId: cam.id,
      url: cam.url,
      fps: cam.fps,
      width: cam.width,
      height: cam.height,
      stallSeconds: cam.stallSeconds,
      backoff: this.deps.backoff ?? { initialMs: 1000, maxMs: 30_000 },
      gate: this.gate,
      decodeThreads: this.ingest.decodeThreads,
      hwaccel: this.ingest.hwaccel,
      ffmpegPath: this.ffmpeg?.path,
      log,
    });
  }

  async stopAll(): Promise<void> {
    const all = [...this.running.values()];
    this.running.clear();
    await Promise.all(all.map((p) => p.stop()));
  }

  /** A bad calibration file must not stop the camera: it counts without speeds, and says why. */
  private calibrationOf(cam: CameraConfig, log: Logger): CalibrationFile | null {
    if (!cam.calibration) return null;
    try {
      return loadCalibration(resolve(this.deps.baseDir, cam.calibration));
    } catch (err) {
      log.error({ err: (err as Error).message, file: cam.calibration }, 'calibration not loaded: speeds are off for this camera');
      return null;
    }
  }

  /** A removed camera leaves no series behind (a stale camera_up 0 would page someone forever). */
  private clearMetrics(id: string): void {
    const m = this.deps.metrics;
    for (const metric of [m.cameraUp, m.cameraFps, m.tracksActive, m.framesDecoded, m.framesAnalysed, m.framesDropped, m.cameraRestarts, m.inferenceSeconds, m.cameraLag, m.cameraLagSeconds, m.cameraOverloaded]) {
      metric.remove({ camera: id });
    }
    // Series of several labels go only by their full label set.
    for (const state of CAMERA_STATES) m.cameraState.remove({ camera: id, state });
    for (const kind of INCIDENT_KINDS) m.incidentsOpen.remove({ camera: id, kind });
    for (const check of HEALTH_CHECKS) m.cameraHealthProblem.remove({ camera: id, check });
  }
}

/** The part of a camera's config that its ffmpeg process depends on. */
function streamOf(c: CameraConfig) {
  return { url: c.url, fps: c.fps, width: c.width, height: c.height, stallSeconds: c.stallSeconds, enabled: c.enabled };
}

export function configBaseDir(configPath: string): string {
  return dirname(resolve(configPath));
}
