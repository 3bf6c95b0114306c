// The Anonymizer: the one stage every image passes through before it leaves the box (installer
// snapshot, incident evidence). It finds faces (YuNet, on the frame and on upscaled person crops) and
// plates (a model-free whole-frame stroke scan, and the PP-OCRv4 text detector on the frame and on
// vehicle crops), drops boxes larger than such an object can be where it is, adds model-free masks for
// every near vehicle's plate band and every person's head, pixelates all of them in the raw buffer,
// and only then JPEG-encodes. Anything that goes wrong withholds the image (fail closed): a missing or
// corrupt model, an inference error, a timeout, a malformed frame.
//
// The work runs in a worker thread (isolated.ts, worker.ts) with its own model sessions: one job at a
// time, at most one waiting, and a deadline that terminates the worker, so a snapshot never runs on
// beside the video analysis. Injected detectors (tests) and `isolation: 'inline'` run it in-process.
//
// Type-level guarantee: anonymizeToJpeg returns an `AnonymizedJpeg`, a Buffer carrying a brand that
// only this module can attach. Code that sends images out (HTTP snapshot route, evidence upload) should
// accept `AnonymizedJpeg`, never `Buffer`, so an unblurred encoding does not type-check. At run time,
// `isAnonymizedJpeg(buf)` checks the same thing against a WeakSet of the buffers this module released.
//
// This module never logs. Its only outputs besides the JPEG are the counters `anonymizedImages` and
// `anonymizationWithheld{reason}`, the gauge `anonymizationRunning` and the histogram
// `snapshotMaskedShare`.
import type { Box, Detection, RgbImage } from '../core/types.js';
import type { Metrics } from '../metrics/registry.js';
import { AnonymizationError, type AnonymizationReason } from './errors.js';
import { createEngine, type Engine, type EngineOptions, type MaskPlan, type Rendered } from './engine.js';
import type { FaceDetector } from './faces.js';
import type { PlateDetector } from './plates.js';
import { WorkerPool, type AnonymizerStats } from './isolated.js';

export { AnonymizationError, AnonymizerBusyError, type AnonymizationReason } from './errors.js';
export type { FaceDetector } from './faces.js';
export type { PlateDetector } from './plates.js';
export type { MaskPlan } from './engine.js';
export type { AnonymizerStats } from './isolated.js';
export { padFace } from './engine.js';
export { coveredFraction, maskedAreaFraction } from './geometry.js';
export { mosaicInPlace, blockSize } from './mosaic.js';

declare const anonymizedBrand: unique symbol;
/** A JPEG whose pixels went through the anonymizer. Only this module can make one. */
export type AnonymizedJpeg = Buffer & { readonly [anonymizedBrand]: true };

const released = new WeakSet<Buffer>();

/** True only for buffers returned by an Anonymizer (belt and braces for the type brand). */
export function isAnonymizedJpeg(buf: Buffer): buf is AnonymizedJpeg {
  return released.has(buf);
}

export interface AnonymizerOptions extends EngineOptions {
  /** Whole-operation budget per image, counted from the request; past it the image is withheld. */
  timeoutMs: number;
  metrics?: Pick<Metrics, 'anonymizedImages' | 'anonymizationWithheld'> & Partial<Pick<Metrics, 'anonymizationRunning' | 'snapshotMaskedShare'>>;
  /** 'worker' (default): a worker thread that a deadline terminates; 'inline': the caller's thread. */
  isolation?: 'worker' | 'inline';
  /** Test seams: replace the model-backed detectors (forces 'inline': functions cannot cross threads). */
  faceDetector?: FaceDetector;
  plateDetector?: PlateDetector;
}

export interface AnonymizedImage {
  jpeg: AnonymizedJpeg;
  /** share of the frame that was pixelated (0..1) */
  maskedShare: number;
}

export interface Anonymizer {
  /** null when ready; otherwise why every image will be withheld (set at creation). */
  readonly unavailable: AnonymizationReason | null;
  /** true when the caller's frame buffer is pixelated in place (inline): hand it a copy you own. */
  readonly blursInPlace: boolean;
  /**
   * Pixelates faces, plates and the fallback regions, then encodes a JPEG. Inline, the pixelation is
   * done IN PLACE in `frame.data` (pass a buffer you own); in a worker, on the worker's own copy.
   * Throws AnonymizationError, with nothing encoded, when anything fails; AnonymizerBusyError when one
   * job runs and one waits already.
   */
  anonymize(frame: RgbImage, objects: readonly Detection[]): Promise<AnonymizedImage>;
  anonymizeToJpeg(frame: RgbImage, objects: readonly Detection[]): Promise<AnonymizedJpeg>;
  /** The regions anonymizeToJpeg would pixelate (clipped to the image), without touching pixels. */
  maskRegions(frame: RgbImage, objects: readonly Detection[]): Promise<Box[]>;
  maskPlan(frame: RgbImage, objects: readonly Detection[]): Promise<MaskPlan>;
  /** Jobs running and waiting, worker threads, and their high-water marks. */
  stats(): AnonymizerStats;
  close(): Promise<void>;
}

/**
 * Builds the anonymizer once (sessions are created here and reused). It does not throw for model
 * problems: a missing or unloadable model yields an anonymizer that withholds every image with that
 * reason, so the rest of the appliance keeps counting traffic while snapshots answer 503.
 */
export async function createAnonymizer(opts: AnonymizerOptions): Promise<Anonymizer> {
  const { timeoutMs, metrics, isolation, faceDetector, plateDetector, ...engineOptions } = opts;
  const runner: Runner =
    faceDetector || plateDetector || isolation === 'inline'
      ? await InlineRunner.create(engineOptions, { faceDetector, plateDetector }, timeoutMs)
      : await WorkerRunner.create(engineOptions, timeoutMs, metrics);
  return new CountingAnonymizer(runner, metrics);
}

/** Where the work runs: the caller's thread or the worker. */
interface Runner {
  readonly unavailable: AnonymizationReason | null;
  readonly blursInPlace: boolean;
  render(frame: RgbImage, objects: readonly Detection[]): Promise<Rendered>;
  plan(frame: RgbImage, objects: readonly Detection[]): Promise<MaskPlan>;
  stats(): AnonymizerStats;
  close(): Promise<void>;
}

class InlineRunner implements Runner {
  readonly blursInPlace = true;
  private running = 0;
  private readonly s: AnonymizerStats = { running: 0, maxRunning: 0, waiting: 0, workers: 0, maxWorkers: 0, workerStarts: 0, workersTerminated: 0 };
  private constructor(
    private readonly engine: Engine,
    private readonly timeoutMs: number,
  ) {}

  static async create(o: EngineOptions, seams: { faceDetector?: FaceDetector; plateDetector?: PlateDetector }, timeoutMs: number): Promise<InlineRunner> {
    return new InlineRunner(await createEngine(o, seams), timeoutMs);
  }

  get unavailable(): AnonymizationReason | null {
    return this.engine.unavailable;
  }

  render(frame: RgbImage, objects: readonly Detection[]): Promise<Rendered> {
    return this.counted(withDeadline((expired) => this.engine.render(frame, objects, expired), this.timeoutMs));
  }

  plan(frame: RgbImage, objects: readonly Detection[]): Promise<MaskPlan> {
    return this.counted(withDeadline(() => this.engine.plan(frame, objects), this.timeoutMs));
  }

  private async counted<T>(p: Promise<T>): Promise<T> {
    this.s.running = ++this.running;
    this.s.maxRunning = Math.max(this.s.maxRunning, this.running);
    try {
      return await p;
    } finally {
      this.s.running = --this.running;
    }
  }

  stats(): AnonymizerStats {
    return { ...this.s };
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

class WorkerRunner implements Runner {
  readonly blursInPlace = false;
  private constructor(private readonly pool: WorkerPool) {}

  static async create(o: EngineOptions, timeoutMs: number, metrics: AnonymizerOptions['metrics']): Promise<WorkerRunner> {
    const pool = new WorkerPool(o, timeoutMs, { onRunning: (n) => metrics?.anonymizationRunning?.set(n) });
    await pool.start();
    return new WorkerRunner(pool);
  }

  get unavailable(): AnonymizationReason | null {
    return this.pool.unavailable;
  }

  render(frame: RgbImage, objects: readonly Detection[]): Promise<Rendered> {
    return this.pool.submit('render', frame, objects);
  }

  plan(frame: RgbImage, objects: readonly Detection[]): Promise<MaskPlan> {
    return this.pool.submit('plan', frame, objects);
  }

  stats(): AnonymizerStats {
    return { ...this.pool.stats };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

class CountingAnonymizer implements Anonymizer {
  constructor(
    private readonly runner: Runner,
    private readonly metrics: AnonymizerOptions['metrics'],
  ) {}

  get unavailable(): AnonymizationReason | null {
    return this.runner.unavailable;
  }

  get blursInPlace(): boolean {
    return this.runner.blursInPlace;
  }

  async anonymize(frame: RgbImage, objects: readonly Detection[]): Promise<AnonymizedImage> {
    try {
      const r = await this.runner.render(frame, objects);
      released.add(r.jpeg);
      this.metrics?.anonymizedImages.inc();
      this.metrics?.snapshotMaskedShare?.observe(r.maskedShare);
      return { jpeg: r.jpeg as AnonymizedJpeg, maskedShare: r.maskedShare };
    } catch (err) {
      if (!(err instanceof Error) || err.name === 'AnonymizerBusyError') throw err;
      const e = asAnonymizationError(err);
      this.metrics?.anonymizationWithheld.inc({ reason: e.reason });
      throw e;
    }
  }

  async anonymizeToJpeg(frame: RgbImage, objects: readonly Detection[]): Promise<AnonymizedJpeg> {
    return (await this.anonymize(frame, objects)).jpeg;
  }

  async maskRegions(frame: RgbImage, objects: readonly Detection[]): Promise<Box[]> {
    return (await this.maskPlan(frame, objects)).all;
  }

  async maskPlan(frame: RgbImage, objects: readonly Detection[]): Promise<MaskPlan> {
    try {
      return await this.runner.plan(frame, objects);
    } catch (err) {
      if (err instanceof Error && err.name === 'AnonymizerBusyError') throw err;
      throw asAnonymizationError(err);
    }
  }

  stats(): AnonymizerStats {
    return this.runner.stats();
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}

function asAnonymizationError(err: unknown): AnonymizationError {
  if (err instanceof AnonymizationError) return err;
  return new AnonymizationError('model-error', err instanceof Error ? err.message : 'unknown failure');
}

/** Rejects with 'timeout' after ms. Inline, the late work is not cancelled, but nothing waits on it any more. */
async function withDeadline<T>(run: (expired: () => boolean) => Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let isExpired = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      isExpired = true;
      reject(new AnonymizationError('timeout', `no result within ${ms} ms`));
    }, ms);
  });
  const work = run(() => isExpired);
  work.catch(() => undefined); // a late failure must not become an unhandled rejection
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
