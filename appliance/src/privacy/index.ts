// The Anonymizer: the one stage every image passes through before it leaves the box (installer
// snapshot, incident evidence). It finds faces (YuNet) and plates (PP-OCRv4 text detector on vehicle
// crops), adds model-free masks for every vehicle's plate band and every person's head, pixelates all
// of them in the raw buffer, and only then JPEG-encodes. Anything that goes wrong withholds the image
// (fail closed): a missing or corrupt model, an inference error, a timeout, a malformed frame.
//
// Type-level guarantee: anonymizeToJpeg returns an `AnonymizedJpeg`, a Buffer carrying a brand that
// only this module can attach. Code that sends images out (HTTP snapshot route, evidence upload) should
// accept `AnonymizedJpeg`, never `Buffer`, so an unblurred encoding does not type-check. At run time,
// `isAnonymizedJpeg(buf)` checks the same thing against a WeakSet of the buffers this module released.
//
// This module never logs. Its only outputs besides the JPEG are the two counters
// `anonymizedImages` and `anonymizationWithheld{reason}`.
import sharp from 'sharp';
import type { Box, Detection, RgbImage } from '../core/types.js';
import { resolveModel } from '../core/models.js';
import type { Metrics } from '../metrics/registry.js';
import { AnonymizationError, type AnonymizationReason } from './errors.js';
import { YunetFaceDetector, type FaceDetector, type FacePassOptions } from './faces.js';
import { PpocrPlateDetector, type PlateDetector, type PpocrPlateOptions } from './plates.js';
import { fallbackRegions, PLATE_CLASSES } from './fallback.js';
import { clipBox, padBox } from './geometry.js';
import { mosaicInPlace } from './mosaic.js';

export { AnonymizationError, type AnonymizationReason } from './errors.js';
export type { FaceDetector } from './faces.js';
export type { PlateDetector } from './plates.js';
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

export interface AnonymizerOptions {
  modelsDir: string;
  manifestPath: string;
  /** Manifest name of the YuNet model, e.g. 'yunet_n'. */
  faceModel: string;
  /** Low on purpose: a false mask costs a few blurred pixels, a missed face costs privacy. */
  faceScoreThreshold: number;
  /** Manifest name of the PP-OCR text detector, e.g. 'ppocr_v4_det'; null = fallback bands only. */
  plateModel: string | null;
  /** Whole-operation budget; past it the image is withheld. */
  timeoutMs: number;
  jpegQuality: number;
  metrics?: Pick<Metrics, 'anonymizedImages' | 'anonymizationWithheld'>;
  /** onnxruntime intra-op threads per model (kept small: the video pipeline needs the cores). Default 1. */
  threads?: number;
  facePasses?: Partial<FacePassOptions>;
  plateOptions?: Partial<PpocrPlateOptions>;
  /** Test seams: replace the model-backed detectors. */
  faceDetector?: FaceDetector;
  plateDetector?: PlateDetector;
}

/** What would be masked, by source. anonymizeToJpeg pixelates exactly `all`. */
export interface MaskPlan {
  faces: Box[];
  plates: Box[];
  fallback: Box[];
  all: Box[];
}

export interface Anonymizer {
  /** null when ready; otherwise why every image will be withheld (set at creation). */
  readonly unavailable: AnonymizationReason | null;
  /**
   * Pixelates faces, plates and the fallback regions IN PLACE in `frame.data`, then encodes a JPEG.
   * The caller must pass a buffer it owns and does not need unblurred afterwards (copy first otherwise).
   * Throws AnonymizationError, with nothing encoded, when anything fails.
   */
  anonymizeToJpeg(frame: RgbImage, objects: readonly Detection[]): Promise<AnonymizedJpeg>;
  /** The regions anonymizeToJpeg would pixelate (clipped to the image), without touching pixels. */
  maskRegions(frame: RgbImage, objects: readonly Detection[]): Promise<Box[]>;
  maskPlan(frame: RgbImage, objects: readonly Detection[]): Promise<MaskPlan>;
  close(): Promise<void>;
}

/** Face box → mask: YuNet boxes are tight (brows to chin); add hair, ears and jaw. */
export function padFace(b: Box): Box {
  return padBox(b, 0.25, 0.4, 0.25);
}

/**
 * Builds the anonymizer once (sessions are created here and reused). It does not throw for model
 * problems: a missing or unloadable model yields an anonymizer that withholds every image with that
 * reason, so the rest of the appliance keeps counting traffic while snapshots answer 503.
 */
export async function createAnonymizer(opts: AnonymizerOptions): Promise<Anonymizer> {
  const threads = opts.threads ?? 1;
  let unavailable: AnonymizationReason | null = null;
  let detail = '';
  let faces: FaceDetector | undefined = opts.faceDetector;
  let plates: PlateDetector | null | undefined = opts.plateDetector;
  const load = async <T>(name: string, make: (path: string) => Promise<T>): Promise<T | undefined> => {
    let path: string;
    try {
      path = resolveModel(name, { modelsDir: opts.modelsDir, manifestPath: opts.manifestPath }).path;
    } catch (err) {
      unavailable ??= 'model-missing';
      detail ||= (err as Error).message;
      return undefined;
    }
    try {
      return await make(path);
    } catch (err) {
      unavailable ??= 'model-error';
      detail ||= `cannot load model '${name}': ${(err as Error).message}`;
      return undefined;
    }
  };
  if (!faces) faces = await load(opts.faceModel, (p) => YunetFaceDetector.create(p, { scoreThreshold: opts.faceScoreThreshold, threads, passes: opts.facePasses }));
  if (plates === undefined) plates = opts.plateModel === null ? null : ((await load(opts.plateModel, (p) => PpocrPlateDetector.create(p, { threads, ...opts.plateOptions }))) ?? undefined);
  return new PixelAnonymizer(opts, unavailable, detail, faces, plates ?? null);
}

class PixelAnonymizer implements Anonymizer {
  constructor(
    private readonly opts: AnonymizerOptions,
    readonly unavailable: AnonymizationReason | null,
    private readonly unavailableDetail: string,
    private readonly faces: FaceDetector | undefined,
    private readonly plates: PlateDetector | null,
  ) {}

  async anonymizeToJpeg(frame: RgbImage, objects: readonly Detection[]): Promise<AnonymizedJpeg> {
    try {
      const jpeg = await withDeadline((expired) => this.blurAndEncode(frame, objects, expired), this.opts.timeoutMs);
      released.add(jpeg);
      this.opts.metrics?.anonymizedImages.inc();
      return jpeg as AnonymizedJpeg;
    } catch (err) {
      const e = asAnonymizationError(err);
      this.opts.metrics?.anonymizationWithheld.inc({ reason: e.reason });
      throw e;
    }
  }

  private async blurAndEncode(frame: RgbImage, objects: readonly Detection[], expired: () => boolean): Promise<Buffer> {
    const plan = await this.plan(frame, objects);
    // Past the deadline the caller has its error already: leave its buffer alone.
    if (expired()) throw new AnonymizationError('timeout', 'late result dropped');
    mosaicInPlace(frame, plan.all);
    try {
      return await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).jpeg({ quality: this.opts.jpegQuality }).toBuffer();
    } catch (err) {
      throw new AnonymizationError('invalid-image', `JPEG encoding failed: ${(err as Error).message}`);
    }
  }

  async maskRegions(frame: RgbImage, objects: readonly Detection[]): Promise<Box[]> {
    return (await this.maskPlan(frame, objects)).all;
  }

  async maskPlan(frame: RgbImage, objects: readonly Detection[]): Promise<MaskPlan> {
    try {
      return await withDeadline(() => this.plan(frame, objects), this.opts.timeoutMs);
    } catch (err) {
      throw asAnonymizationError(err);
    }
  }

  private async plan(frame: RgbImage, objects: readonly Detection[]): Promise<MaskPlan> {
    if (this.unavailable) throw new AnonymizationError(this.unavailable, this.unavailableDetail);
    checkInput(frame, objects);
    const faceDetector = this.faces;
    if (!faceDetector) throw new AnonymizationError('model-missing', 'no face detector');
    const vehicles = objects.filter((o) => PLATE_CLASSES.has(o.cls)).map((o) => o.box);
    const [faceBoxes, plateBoxes] = await Promise.all([
      faceDetector.detect(frame).catch((err: unknown) => {
        throw new AnonymizationError('model-error', `face detector failed: ${(err as Error).message}`);
      }),
      this.plates
        ? this.plates.detect(frame, vehicles).catch((err: unknown) => {
            throw new AnonymizationError('model-error', `plate detector failed: ${(err as Error).message}`);
          })
        : Promise.resolve([]),
    ]);
    // A detector box we cannot place is a face or plate we cannot mask: treat it as a model failure.
    for (const d of [...faceBoxes, ...plateBoxes]) if (![d.box.x, d.box.y, d.box.w, d.box.h].every(Number.isFinite)) throw new AnonymizationError('model-error', 'detector returned a non-finite box');
    const clip = (bs: Box[]): Box[] => bs.map((b) => clipBox(b, frame.width, frame.height)).filter((b): b is Box => b !== null);
    const faces = clip(faceBoxes.map((f) => padFace(f.box)));
    const plates = clip(plateBoxes.map((p) => p.box));
    const fallback = clip(fallbackRegions(objects));
    return { faces, plates, fallback, all: [...faces, ...plates, ...fallback] };
  }

  async close(): Promise<void> {
    await Promise.all([this.faces?.close(), this.plates?.close()]);
  }
}

function checkInput(frame: RgbImage, objects: readonly Detection[]): void {
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) throw new AnonymizationError('invalid-image', `bad size ${width}x${height}`);
  if (!Buffer.isBuffer(data) || data.length !== width * height * 3) throw new AnonymizationError('invalid-image', `expected ${width * height * 3} bytes of rgb24, got ${data?.length}`);
  // A box we cannot place is a person or plate we cannot mask: withhold rather than guess.
  for (const o of objects) if (![o.box.x, o.box.y, o.box.w, o.box.h].every(Number.isFinite)) throw new AnonymizationError('invalid-image', 'detection with a non-finite box');
}

function asAnonymizationError(err: unknown): AnonymizationError {
  if (err instanceof AnonymizationError) return err;
  return new AnonymizationError('model-error', err instanceof Error ? err.message : 'unknown failure');
}

/** Rejects with 'timeout' after ms. The late work is not cancelled, but nothing waits on it any more. */
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
