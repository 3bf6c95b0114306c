// The real API, built as the appliance builds it (createApiServer: the roadsideApi plugin on a fastify
// server that is never listening), driven with inject(). Behind it: the real config store, camera
// manager and event pipeline (LevelDB outbox on a temp dir, no sinks), and cameras that replay
// detections recorded from the real model (no ffmpeg, no model, no port).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { ApiOptions } from '../../appliance/src/api/app.js';
import { createApiServer } from '../../appliance/src/api/server.js';
import { validateConfig } from '../../appliance/src/config/load.js';
import { ConfigStore } from '../../appliance/src/config/store.js';
import type { Recording } from '../../appliance/src/core/recording.js';
import type { DomainEvent } from '../../appliance/src/core/types.js';
import { ReplayDetector } from '../../appliance/src/detect/replay-detector.js';
import { createEventPipeline, type EventPipeline } from '../../appliance/src/events/index.js';
import { RecordedFrameSource } from '../../appliance/src/ingest/recorded-source.js';
import { createMetrics } from '../../appliance/src/metrics/registry.js';
import { CameraManager } from '../../appliance/src/pipeline/camera-manager.js';
import { allTokens } from './appliance.js';
import { loadFixtureRecording } from './replay.js';

export interface TestApi {
  app: FastifyInstance;
  /** What the app plugin was given (to register it again elsewhere). */
  apiOptions: ApiOptions;
  store: ConfigStore;
  cameras: CameraManager;
  events: EventPipeline;
  /** Every event the cameras published, in order. */
  published: DomainEvent[];
  /** The log so far (JSON lines), when logged at 'debug'. */
  logText: () => string;
  /** Resolves once the camera's replay has delivered its last frame. */
  replayEnded: (cameraId: string) => Promise<void>;
  close: () => Promise<void>;
}

export interface TestApiOptions {
  /** Config sections over { appliance: unit-box, storage: a temp dir, auth: the test tokens }. */
  config?: Record<string, unknown>;
  /** What every camera replays, shifted to start now (default: cdnet-highway at 10 fps, recorded from YOLOX-Nano). */
  recording?: Recording;
  /** 'debug' keeps every log line for logText(). */
  logLevel?: 'silent' | 'debug';
}

export async function testApi(o: TestApiOptions = {}): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'roadside-test-api-'));
  let logText = '';
  const log = o.logLevel === 'debug' ? pino({ level: 'debug' }, new Writable({ write: (c, _e, cb) => ((logText += String(c)), cb()) })) : pino({ level: 'silent' });
  const recording = o.recording ?? loadFixtureRecording('cdnet-highway.10fps.jsonl');
  const cfg = validateConfig({ appliance: { id: 'unit-box' }, storage: { dataDir: join(dir, 'data') }, auth: { enabled: true, tokens: allTokens() }, ...o.config });
  const metrics = createMetrics();
  const events = await createEventPipeline({ config: cfg, dataDir: join(dir, 'data'), metrics, log });
  const published: DomainEvent[] = [];
  const sources = new Map<string, RecordedFrameSource>();
  // The replay runs now, as a live camera would: its events fall in the routes' default windows (the last day).
  const shiftMs = Date.now() - (recording.frames[0]?.timestampMs ?? 0);
  const cameras = new CameraManager({
    detector: new ReplayDetector(recording),
    metrics,
    log,
    events: { process: async (e) => (published.push(...e), events.process(e)), close: async () => undefined },
    baseDir: dir,
    createSource: (cam) => {
      const source = new RecordedFrameSource(cam.id, recording, shiftMs);
      sources.set(cam.id, source);
      return source;
    },
  });
  const store = new ConfigStore(cfg, null, (next) => cameras.apply(next));
  const apiOptions: ApiOptions = { metrics, config: store, cameras, outbox: events.outbox, anonymizer: () => null, notReady: () => [], calibrationDir: join(dir, 'calibration') };
  const app = await createApiServer({ log }, apiOptions);
  await app.ready();
  await cameras.apply(cfg);
  return {
    app,
    apiOptions,
    store,
    cameras,
    events,
    published,
    logText: () => logText,
    replayEnded: async (id) => {
      const source = sources.get(id);
      if (!source) throw new Error(`camera '${id}' replays nothing`);
      await source.ended();
    },
    close: async () => {
      await cameras.stopAll();
      await app.close();
      await events.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
