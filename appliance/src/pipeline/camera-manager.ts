// Keeps the running cameras in line with the config: starts new ones, stops removed ones and
// restarts changed ones, leaving every other camera untouched.
import { dirname, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { LimitsDefaults, type CameraConfig, type Config } from '../config/schema.js';
import { cameraLogger, type Logger } from '../core/log.js';
import type { Metrics } from '../metrics/registry.js';
import { loadCalibration, type CalibrationFile } from '../analytics/index.js';
import { ConnectGate, type BackoffPolicy } from '../ingest/index.js';
import { CAMERA_STATES, CameraPipeline, INCIDENT_KINDS, type EventPublisher } from './camera-pipeline.js';
import type { DetectorQueue } from './detector-queue.js';

export interface CameraManagerDeps {
  detector: DetectorQueue;
  metrics: Metrics;
  log: Logger;
  events: EventPublisher;
  /** Folder that relative calibration paths are resolved against (the config file's). */
  baseDir: string;
  backoff?: BackoffPolicy;
}

export class CameraManager {
  private readonly running = new Map<string, CameraPipeline>();
  private binSeconds: number[] = [];
  private readonly gate = new ConnectGate(LimitsDefaults.maxConnectingCameras);

  constructor(private readonly deps: CameraManagerDeps) {}

  get(id: string): CameraPipeline | undefined {
    return this.running.get(id);
  }

  list(): CameraPipeline[] {
    return [...this.running.values()];
  }

  async apply(config: Config): Promise<void> {
    const wanted = new Map(config.cameras.filter((c) => c.enabled).map((c) => [c.id, c]));
    const binsChanged = !isDeepStrictEqual(config.analytics.binSeconds, this.binSeconds);
    this.binSeconds = [...config.analytics.binSeconds];
    this.gate.setLimit(config.limits.maxConnectingCameras);
    const stops: Promise<void>[] = [];
    const failed: string[] = [];
    for (const [id, p] of this.running) {
      const next = wanted.get(id);
      if (next && !binsChanged && isDeepStrictEqual(next, p.config)) continue;
      if (next && isDeepStrictEqual(streamOf(next), streamOf(p.config))) {
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
    }
    await Promise.all(stops);
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
    const p = new CameraPipeline(cam, {
      detector: this.deps.detector,
      metrics: this.deps.metrics,
      log,
      events: this.deps.events,
      binSeconds: this.binSeconds,
      calibration: this.calibrationOf(cam, log),
      backoff: this.deps.backoff,
      gate: this.gate,
    });
    this.running.set(cam.id, p);
    p.start();
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
    for (const metric of [m.cameraUp, m.cameraFps, m.tracksActive, m.framesDecoded, m.framesAnalysed, m.framesDropped, m.cameraRestarts, m.inferenceSeconds]) {
      metric.remove({ camera: id });
    }
    // Series of several labels go only by their full label set.
    for (const state of CAMERA_STATES) m.cameraState.remove({ camera: id, state });
    for (const kind of INCIDENT_KINDS) m.incidentsOpen.remove({ camera: id, kind });
  }
}

/** The part of a camera's config that its ffmpeg process depends on. */
function streamOf(c: CameraConfig) {
  return { url: c.url, fps: c.fps, width: c.width, height: c.height, stallSeconds: c.stallSeconds, enabled: c.enabled };
}

export function configBaseDir(configPath: string): string {
  return dirname(resolve(configPath));
}
