// The anonymization work itself, without deadline or metrics: load the models, plan the masks,
// pixelate in place, encode. It runs inside the anonymizer's worker thread (worker.ts), or in the
// caller's thread when detectors are injected (tests) or isolation is 'inline' (benchmarks of masks).
import sharp from 'sharp';
import type { Box, Detection, RgbImage } from '../core/types.js';
import { resolveModel } from '../core/models.js';
import { AnonymizationError, type AnonymizationReason } from './errors.js';
import { YunetFaceDetector, type FaceDetector, type FacePassOptions } from './faces.js';
import { PpocrPlateDetector, type PlateDetector, type PpocrPlateOptions } from './plates.js';
import { fallbackRegions, PLATE_CLASSES } from './fallback.js';
import { clipBox, maskedAreaFraction, padBox } from './geometry.js';
import { contextOf, plausibleFace, plausiblePlate } from './bounds.js';
import { plateFromPatch, scanPlates, type PlateScanOptions, DEFAULT_PLATE_SCAN } from './plate-scan.js';
import { mosaicInPlace } from './mosaic.js';

/** What may cross into a worker thread: plain data only. */
export interface EngineOptions {
  modelsDir: string;
  manifestPath: string;
  /** Manifest name of the YuNet model, e.g. 'yunet_n'. */
  faceModel: string;
  /** Low on purpose: a false mask costs a few blurred pixels, a missed face costs privacy. */
  faceScoreThreshold: number;
  /** Manifest name of the PP-OCR text detector, e.g. 'ppocr_v4_det'; null = plate scan and fallback bands only. */
  plateModel: string | null;
  jpegQuality: number;
  /** onnxruntime intra-op threads per model (kept small: the video pipeline needs the cores). Default 1. */
  threads?: number;
  facePasses?: Partial<FacePassOptions>;
  plateOptions?: Partial<PpocrPlateOptions>;
  plateScan?: Partial<PlateScanOptions>;
}

/** What would be masked, by source. The JPEG pixelates exactly `all`. */
export interface MaskPlan {
  faces: Box[];
  /** text-detector plates and whole-frame plate-scan finds, both size-bounded */
  plates: Box[];
  fallback: Box[];
  all: Box[];
  /** share of the frame under `all` (0..1) */
  maskedShare: number;
}

export interface Rendered {
  jpeg: Buffer;
  maskedShare: number;
}

export interface Engine {
  readonly unavailable: AnonymizationReason | null;
  readonly detail: string;
  plan(frame: RgbImage, objects: readonly Detection[]): Promise<MaskPlan>;
  /** Pixelates `frame.data` in place, then encodes; `expired` is asked before touching pixels. */
  render(frame: RgbImage, objects: readonly Detection[], expired?: () => boolean): Promise<Rendered>;
  close(): Promise<void>;
}

/** Face box → mask: YuNet boxes are tight (brows to chin); add hair, ears and jaw. */
export function padFace(b: Box): Box {
  return padBox(b, 0.25, 0.4, 0.25);
}

/**
 * Loads the models once (sessions reused for every image). Never throws for model problems: a missing
 * or unloadable model gives an engine whose `unavailable` says why, and every image is withheld.
 */
export async function createEngine(opts: EngineOptions, seams: { faceDetector?: FaceDetector; plateDetector?: PlateDetector } = {}): Promise<Engine> {
  const threads = opts.threads ?? 1;
  let unavailable: AnonymizationReason | null = null;
  let detail = '';
  let faces: FaceDetector | undefined = seams.faceDetector;
  let plates: PlateDetector | null | undefined = seams.plateDetector;
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
  return new PixelEngine(opts, unavailable, detail, faces, plates ?? null);
}

class PixelEngine implements Engine {
  private readonly scan: PlateScanOptions;
  constructor(
    private readonly opts: EngineOptions,
    readonly unavailable: AnonymizationReason | null,
    readonly detail: string,
    private readonly faces: FaceDetector | undefined,
    private readonly plates: PlateDetector | null,
  ) {
    this.scan = { ...DEFAULT_PLATE_SCAN, ...opts.plateScan };
  }

  async render(frame: RgbImage, objects: readonly Detection[], expired: () => boolean = () => false): Promise<Rendered> {
    const plan = await this.plan(frame, objects);
    // Past the deadline the caller has its error already: leave its buffer alone.
    if (expired()) throw new AnonymizationError('timeout', 'late result dropped');
    mosaicInPlace(frame, plan.all);
    try {
      const jpeg = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).jpeg({ quality: this.opts.jpegQuality }).toBuffer();
      return { jpeg, maskedShare: plan.maskedShare };
    } catch (err) {
      throw new AnonymizationError('invalid-image', `JPEG encoding failed: ${(err as Error).message}`);
    }
  }

  async plan(frame: RgbImage, objects: readonly Detection[]): Promise<MaskPlan> {
    if (this.unavailable) throw new AnonymizationError(this.unavailable, this.detail);
    checkInput(frame, objects);
    const faceDetector = this.faces;
    if (!faceDetector) throw new AnonymizationError('model-missing', 'no face detector');
    const vehicles = objects.filter((o) => PLATE_CLASSES.has(o.cls)).map((o) => o.box);
    const persons = objects.filter((o) => o.cls === 'person').map((o) => o.box);
    const faceBoxes = await faceDetector.detect(frame, persons).catch((err: unknown) => {
      throw new AnonymizationError('model-error', `face detector failed: ${(err as Error).message}`);
    });
    const plateBoxes = this.plates
      ? await this.plates.detect(frame, vehicles).catch((err: unknown) => {
          throw new AnonymizationError('model-error', `plate detector failed: ${(err as Error).message}`);
        })
      : [];
    // A detector box we cannot place is a face or plate we cannot mask: treat it as a model failure.
    for (const d of [...faceBoxes, ...plateBoxes]) if (![d.box.x, d.box.y, d.box.w, d.box.h].every(Number.isFinite)) throw new AnonymizationError('model-error', 'detector returned a non-finite box');
    // Model-free, vehicle-free whole-frame pass: small plates on cars the detector missed.
    const scanned = scanPlates(frame, this.scan).map((p) => plateFromPatch(p.box));
    const vehicleWidth = contextOf(vehicles);
    const personWidth = contextOf(persons);
    const size = { width: frame.width, height: frame.height };
    const clip = (bs: Box[]): Box[] => bs.map((b) => clipBox(b, frame.width, frame.height)).filter((b): b is Box => b !== null);
    // bounds on the detector's own box: padding is ours, and a close-up face fills most of the picture
    const faces = clip(faceBoxes.filter((f) => plausibleFace(f.box, personWidth, size)).map((f) => padFace(f.box)));
    const plates = clip([...plateBoxes.map((p) => p.box), ...scanned].filter((b) => plausiblePlate(b, vehicleWidth, size)));
    const fallback = clip(fallbackRegions(objects));
    const all = [...faces, ...plates, ...fallback];
    return { faces, plates, fallback, all, maskedShare: maskedAreaFraction(frame.width, frame.height, all) };
  }

  async close(): Promise<void> {
    await Promise.all([this.faces?.close(), this.plates?.close()]);
  }
}

export function checkInput(frame: RgbImage, objects: readonly Detection[]): void {
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) throw new AnonymizationError('invalid-image', `bad size ${width}x${height}`);
  if (!Buffer.isBuffer(data) || data.length !== width * height * 3) throw new AnonymizationError('invalid-image', `expected ${width * height * 3} bytes of rgb24, got ${data?.length}`);
  // A box we cannot place is a person or plate we cannot mask: withhold rather than guess.
  for (const o of objects) if (![o.box.x, o.box.y, o.box.w, o.box.h].every(Number.isFinite)) throw new AnonymizationError('invalid-image', 'detection with a non-finite box');
}
