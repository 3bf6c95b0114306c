// Keeps the running cameras in line with the config: starts new ones, stops removed ones and
// restarts changed ones, leaving every other camera untouched.
import { dirname, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { CameraConfig, Config } from '../config/schema.js';
import { cameraLogger, type Logger } from '../core/log.js';
import type { Metrics } from '../metrics/registry.js';
import { loadCalibration, type CalibrationFile } from '../analytics/index.js';
import type { BackoffPolicy } from '../ingest/index.js';
import { CameraPipeline, type EventPublisher } from './camera-pipeline.js';
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

  constructor(private readonly deps: CameraManagerDeps) {}

  get(id: string): CameraPipeline | undefined {
    return this.running.get(id);
  }

  list(): CameraPipeline[] {
    return [...this.running.values()];
  }

  async apply(config: Config): Promise<void> {
    const wanted = new Map(config.cameras.filter((c) => c.enabled).map((c) => [c.id, c]));
    const stops: Promise<void>[] = [];
    for (const [id, p] of this.running) {
      const next = wanted.get(id);
      if (next && isDeepStrictEqual(next, p.config)) continue;
      if (next && isDeepStrictEqual(streamOf(next), streamOf(p.config))) {
        // Only what is drawn or ruled changed: keep the stream, swap the analytics.
        p.reconfigure(next, this.calibrationOf(next, cameraLogger(this.deps.log, id)));
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
      const calibration = this.calibrationOf(cam, log);
      const p = new CameraPipeline(cam, {
        detector: this.deps.detector,
        metrics: this.deps.metrics,
        log,
        events: this.deps.events,
        binSeconds: config.analytics.binSeconds,
        calibration,
        backoff: this.deps.backoff,
      });
      this.running.set(id, p);
      p.start();
    }
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

  private clearMetrics(id: string): void {
    const m = this.deps.metrics;
    for (const g of [m.cameraUp, m.cameraFps, m.tracksActive]) g.remove({ camera: id });
  }
}

/** The part of a camera's config that its ffmpeg process depends on. */
function streamOf(c: CameraConfig) {
  return { url: c.url, fps: c.fps, width: c.width, height: c.height, stallSeconds: c.stallSeconds, enabled: c.enabled };
}

export function configBaseDir(configPath: string): string {
  return dirname(resolve(configPath));
}
