// The appliance: wires config → detector → cameras → events → API, and takes it down in order.
import { existsSync, mkdirSync, readFileSync, statfsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfigFile, ConfigError } from './config/load.js';
import { ConfigStore } from './config/store.js';
import { createLogger, type Logger } from './core/log.js';
import { modelsDirFromEnv } from './core/models.js';
import { installRoot } from './core/paths.js';
import { createDetector, type Detector } from './detect/index.js';
import { createEventPipeline, type EventPipeline } from './events/index.js';
import { createMetrics, type Metrics } from './metrics/registry.js';
import { CameraManager, configBaseDir } from './pipeline/camera-manager.js';
import { DetectorQueue } from './pipeline/detector-queue.js';
import { createAnonymizer, type Anonymizer } from './privacy/index.js';
import { createApiServer } from './api/server.js';
import { APPLIANCE_SUBJECT, type DomainEvent } from './core/types.js';
import type { ConfigAppliedData } from './core/event-data.js';
import type { BackoffPolicy } from './core/backoff.js';
import { removeOrtDebugLog } from './core/leftovers.js';

export interface ApplianceOptions {
  configPath: string;
  log?: Logger;
  /** Camera reconnects and sink retries (defaults: camera 1 s..30 s, sinks 0.5 s..30 s). */
  backoff?: BackoffPolicy;
  /** Bound of the graceful shutdown. */
  shutdownTimeoutMs?: number;
}

export class Appliance {
  private constructor(
    readonly log: Logger,
    readonly metrics: Metrics,
    readonly config: ConfigStore,
    readonly cameras: CameraManager,
    readonly events: EventPipeline,
    readonly api: FastifyInstance,
    private readonly detector: Detector,
    readonly anonymizer: Anonymizer | null,
    private readonly timers: NodeJS.Timeout[],
    private readonly shutdownTimeoutMs: number,
    private readonly stopping: { value: boolean },
  ) {}

  /** Loads everything; throws with a clear message (bad config, missing model) before listening. */
  static async start(o: ApplianceOptions): Promise<Appliance> {
    const log = o.log ?? createLogger();
    const cfg = loadConfigFile(o.configPath);
    const baseDir = configBaseDir(o.configPath);
    const fromBase = (p: string) => resolve(baseDir, p);
    const metrics = createMetrics();
    const stopping = { value: false };

    const modelsDir = modelsDirFromEnv(fromBase(cfg.models.dir));
    const manifestPath = resolveManifest(cfg.models.manifest, baseDir);
    const detector = await createDetector({ ...cfg.detector, modelsDir, manifestPath });
    log.info({ model: cfg.detector.model, backend: cfg.detector.backend, modelsDir }, 'detector loaded');

    // The anonymizer never blocks start: without it, image routes answer 503 and counting goes on.
    const anonymizer = await createAnonymizer({ ...cfg.privacy, modelsDir, manifestPath, metrics }).catch((err: Error) => {
      log.error({ err: err.message }, 'anonymizer not loaded: every image will be withheld');
      return null;
    });
    if (anonymizer?.unavailable) log.error({ reason: anonymizer.unavailable }, 'anonymizer unavailable: every image will be withheld');

    const dataDir = fromBase(cfg.storage.dataDir);
    mkdirSync(dataDir, { recursive: true });
    const events = await createEventPipeline({ config: cfg, dataDir, metrics, log, backoff: o.backoff });

    const cameras = new CameraManager({ detector: new DetectorQueue(detector), metrics, log, events, baseDir, backoff: o.backoff, healthDir: resolve(dataDir, 'health') });
    const store = new ConfigStore(
      cfg,
      o.configPath,
      async (next) => {
        await cameras.apply(next);
      },
      {
        versionPath: resolve(dataDir, 'config-version.json'),
        onApplied: (change) => {
          log.info({ version: change.version, hash: change.hash, source: change.source, cameras: change.cameras, sections: change.sections }, 'config applied');
          const event: DomainEvent<ConfigAppliedData> = { type: 'config.applied', cameraId: APPLIANCE_SUBJECT, timeMs: Date.now(), data: change };
          events.process([event]).catch((err: Error) => log.error({ err: err.message, version: change.version }, 'config.applied event not stored'));
        },
      },
    );
    store.announceStart();
    if (store.removedTempFiles.length) log.warn({ files: store.removedTempFiles }, 'removed temp files of an interrupted config save');
    const tls = cfg.server.tls ? { cert: readFileSync(fromBase(cfg.server.tls.cert)), key: readFileSync(fromBase(cfg.server.tls.key)) } : null;
    const api = await createApiServer(
      { log, https: tls },
      {
        metrics,
        config: store,
        cameras,
        outbox: events.outbox,
        anonymizer: () => anonymizer,
        notReady: () => (stopping.value ? ['shutting down'] : []),
        calibrationDir: resolve(dataDir, 'calibration'),
      },
    );

    const timers: NodeJS.Timeout[] = [];
    const diskTick = () => {
      try {
        const s = statfsSync(dataDir);
        metrics.dataDiskFreeBytes.set(s.bavail * s.bsize);
        metrics.dataDiskSizeBytes.set(s.blocks * s.bsize);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'cannot read free disk space');
      }
    };
    diskTick();
    timers.push(setInterval(diskTick, 30_000));
    timers.forEach((t) => t.unref());

    const app = new Appliance(log, metrics, store, cameras, events, api, detector, anonymizer, timers, o.shutdownTimeoutMs ?? 15_000, stopping);
    await cameras.apply(cfg);
    await api.listen({ host: cfg.server.host, port: cfg.server.port });
    log.info({ address: app.address(), cameras: cfg.cameras.length }, 'appliance started');
    return app;
  }

  address(): string {
    const a = this.api.server.address();
    if (!a || typeof a === 'string') return String(a);
    const proto = this.config.get().server.tls ? 'https' : 'http';
    return `${proto}://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  }

  /** SIGHUP: re-read the file; an invalid file is refused and the running config stays. */
  async reload(): Promise<boolean> {
    try {
      await this.config.reload();
      this.log.info('config reloaded');
      return true;
    } catch (err) {
      if (err instanceof ConfigError) this.log.error({ issues: err.issues, file: err.source }, 'config refused; keeping the running config');
      else this.log.error({ err: (err as Error).message }, 'config reload failed; keeping the running config');
      return false;
    }
  }

  /** SIGTERM: stop ingest (closing open intervals into the outbox), flush the outbox, close the DB. */
  async stop(): Promise<void> {
    const t0 = Date.now();
    this.stopping.value = true;
    const work = (async () => {
      this.timers.forEach((t) => clearInterval(t));
      await this.api.close();
      await this.cameras.stopAll();
      await this.events.close();
      await this.detector.close();
      await this.anonymizer?.close();
      removeOrtDebugLog();
    })();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), this.shutdownTimeoutMs)));
    const result = await Promise.race([work.then(() => 'done' as const), bound]);
    clearTimeout(timer);
    if (result === 'timeout') this.log.error({ ms: this.shutdownTimeoutMs }, 'graceful shutdown ran out of time');
    else this.log.info({ ms: Date.now() - t0 }, 'appliance stopped');
  }
}

function resolveManifest(p: string, baseDir: string): string {
  // The manifest ships with the code: a relative path is tried beside the config, then in the install.
  const beside = resolve(baseDir, p);
  return [beside, resolve(installRoot(), p)].find((c) => existsSync(c)) ?? beside;
}
