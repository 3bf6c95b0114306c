// Runs one camera's real CameraPipeline over a clip or a recording, to its end, and returns the
// events it produced: the replay path of tests, benchmarks and `npm run record-detections`.
import { pino } from 'pino';
import type { CameraConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { DetectorStage, FrameSource, TrackerStage } from '../core/stages.js';
import type { DomainEvent } from '../core/types.js';
import { CameraAnalytics, type CalibrationFile, type LineCrossing } from '../analytics/index.js';
import { MultiObjectTracker } from '../track/index.js';
import { CameraPipeline } from './camera-pipeline.js';
import { QuietObserver, type PipelineObserver } from './observer.js';

export interface ReplaySource extends FrameSource {
  /** Resolves when the last frame has been analysed. */
  ended(): Promise<void>;
}

export interface ReplayOptions {
  camera: CameraConfig;
  source: ReplaySource;
  detector: DetectorStage;
  binSeconds?: number[];
  calibration?: CalibrationFile | null;
  observer?: PipelineObserver;
  log?: Logger;
  onCrossing?: (crossing: LineCrossing) => void;
  tracker?: () => TrackerStage;
  /** CameraAnalyticsOptions.coastAcross. */
  coastAcross?: boolean;
}

export interface ReplayResult {
  events: DomainEvent[];
  framesAnalysed: number;
  framesDropped: number;
}

export async function replayCamera(o: ReplayOptions): Promise<ReplayResult> {
  const events: DomainEvent[] = [];
  const pipeline = new CameraPipeline(
    o.camera,
    {
      source: o.source,
      detector: o.detector,
      publisher: {
        process: async (batch) => void events.push(...batch),
        close: async () => undefined,
      },
      createTracker: o.tracker ?? (() => new MultiObjectTracker()),
      createAnalytics: (camera, calibration, binSeconds) => new CameraAnalytics({ camera, calibration, binSeconds, onCrossing: o.onCrossing, coastAcross: o.coastAcross }),
      observer: o.observer ?? new QuietObserver(),
      log: o.log ?? pino({ level: 'silent' }),
      // Intervals close at the clip's time: just after its last frame.
      now: () => (o.source.status().lastFrameAt ?? 0) + 1,
    },
    o.calibration ?? null,
    o.binSeconds ?? [60],
  );
  pipeline.start();
  await o.source.ended();
  await pipeline.stop();
  const s = pipeline.status();
  return { events, framesAnalysed: s.framesAnalysed, framesDropped: s.framesDropped };
}
