// Licence plates: the PP-OCRv4 text detector (a DB probability map) run on the whole frame and on each
// vehicle crop (upscaled, so small plates get enough pixels), kept to boxes shaped (and, on a vehicle,
// placed) like a plate, then padded to the whole plate. It finds the plate's text; the geometric
// fallback (fallback.ts) covers what it misses.
import * as ort from 'onnxruntime-node';
import type { Box, RgbImage } from '../core/types.js';
import { clipBox, nms, type ScoredBox } from './geometry.js';
import { cropResize, roundUp, toImagenetTensor } from './resize.js';
import { removeOrtDebugLog } from '../core/leftovers.js';

/** Finds plates in the frame and on the given vehicle boxes; returns padded plate boxes in image pixels. */
export interface PlateDetector {
  detect(image: RgbImage, vehicles: readonly Box[]): Promise<ScoredBox[]>;
  close(): Promise<void>;
}

export interface DbOptions {
  /** Probability above which a pixel is text (PaddleOCR det_db_thresh). */
  binThreshold: number;
  /** Mean probability a region needs (det_db_box_thresh). */
  boxThreshold: number;
  /** DB unclip ratio: the map marks a shrunk text kernel; grow it back by area*ratio/perimeter. */
  unclipRatio: number;
}

export const DEFAULT_DB: DbOptions = { binThreshold: 0.3, boxThreshold: 0.5, unclipRatio: 1.6 };

/** Axis-aligned text boxes from a DB probability map (4-connected components of the binary map). */
export function dbBoxes(prob: Float32Array, w: number, h: number, o: DbOptions = DEFAULT_DB): ScoredBox[] {
  if (prob.length < w * h) throw new Error(`text probability map holds ${prob.length} values, expected ${w}x${h}`);
  // Checked above: prob, label and stack hold w×h entries, and every index is a pixel 0..w×h−1.
  const label = new Int32Array(w * h);
  const stack = new Int32Array(w * h);
  const out: ScoredBox[] = [];
  let next = 0;
  for (let start = 0; start < w * h; start++) {
    if (label[start] || prob[start]! <= o.binThreshold) continue;
    next++;
    let sp = 0;
    stack[sp++] = start;
    label[start] = next;
    let n = 0;
    let sum = 0;
    let x1 = w;
    let y1 = h;
    let x2 = -1;
    let y2 = -1;
    while (sp > 0) {
      const i = stack[--sp]!;
      const x = i % w;
      const y = (i - x) / w;
      n++;
      sum += prob[i]!;
      if (x < x1) x1 = x;
      if (x > x2) x2 = x;
      if (y < y1) y1 = y;
      if (y > y2) y2 = y;
      if (x > 0 && !label[i - 1] && prob[i - 1]! > o.binThreshold) {
        label[i - 1] = next;
        stack[sp++] = i - 1;
      }
      if (x < w - 1 && !label[i + 1] && prob[i + 1]! > o.binThreshold) {
        label[i + 1] = next;
        stack[sp++] = i + 1;
      }
      if (y > 0 && !label[i - w] && prob[i - w]! > o.binThreshold) {
        label[i - w] = next;
        stack[sp++] = i - w;
      }
      if (y < h - 1 && !label[i + w] && prob[i + w]! > o.binThreshold) {
        label[i + w] = next;
        stack[sp++] = i + w;
      }
    }
    if (n < 4 || sum / n < o.boxThreshold) continue;
    const bw = x2 - x1 + 1;
    const bh = y2 - y1 + 1;
    const d = (bw * bh * o.unclipRatio) / (2 * (bw + bh));
    out.push({ box: { x: x1 - d, y: y1 - d, w: bw + 2 * d, h: bh + 2 * d }, score: sum / n });
  }
  return out;
}

export interface PlateShape {
  /** width / height of the text box */
  minAspect: number;
  maxAspect: number;
  /** text box width relative to the vehicle box width */
  minRelWidth: number;
  maxRelWidth: number;
  /** text box height relative to the vehicle box height */
  maxRelHeight: number;
  /** the box centre must lie below this fraction of the vehicle height (plates are not on roofs) */
  minRelCentreY: number;
}

export const DEFAULT_PLATE_SHAPE: PlateShape = { minAspect: 1.1, maxAspect: 9, minRelWidth: 0.04, maxRelWidth: 0.7, maxRelHeight: 0.35, minRelCentreY: 0.25 };

/** Keeps text boxes that could be (part of) a plate on this vehicle. */
export function isPlateShaped(text: Box, vehicle: Box, s: PlateShape = DEFAULT_PLATE_SHAPE): boolean {
  const aspect = text.w / text.h;
  const cy = (text.y + text.h / 2 - vehicle.y) / vehicle.h;
  return (
    aspect >= s.minAspect &&
    aspect <= s.maxAspect &&
    text.w >= s.minRelWidth * vehicle.w &&
    text.w <= s.maxRelWidth * vehicle.w &&
    text.h <= s.maxRelHeight * vehicle.h &&
    cy >= s.minRelCentreY
  );
}

/**
 * Without a vehicle to relate to (the whole-frame pass): any text line shaped like a plate. Signs and
 * shop names get masked too; that is the price of not depending on the vehicle detector.
 */
export function isPlateShapedAlone(text: Box, image: { width: number; height: number }, s: PlateShape = DEFAULT_PLATE_SHAPE): boolean {
  const aspect = text.w / text.h;
  return aspect >= s.minAspect && aspect <= s.maxAspect && text.h >= 4 && text.w <= 0.9 * image.width;
}

/** From the text on a plate to the whole plate (frame, state name, stickers): generous on all sides. */
export function plateFromText(text: Box): Box {
  const padX = Math.max(0.15 * text.w, 0.5 * text.h);
  const padY = 0.6 * text.h;
  return { x: text.x - padX, y: text.y - padY, w: text.w + 2 * padX, h: text.h + 2 * padY };
}

export interface PpocrPlateOptions {
  threads: number;
  /** Vehicles narrower than this (px) are left to the plate scan and the fallback band. */
  minVehicleWidth: number;
  /**
   * Crop scale: vehicle width × scale reaches this many px (a plate's characters, about 4.5 % of a
   * vehicle's width high, then reach the ~10 px the text detector needs), within [1, maxCropScale].
   */
  cropTargetWidth: number;
  maxCropScale: number;
  /** All vehicle crops together, in detector pixels: beyond it every crop is scaled down alike. */
  cropPixelBudget: number;
  /**
   * Long side of the whole-frame pass (0 = off). It catches plates on vehicles the object detector
   * missed or cut at the frame edge, and close-ups where the car fills the picture.
   */
  frameSide: number;
  db?: Partial<DbOptions>;
  shape?: Partial<PlateShape>;
}

export const DEFAULT_PPOCR: PpocrPlateOptions = { threads: 2, minVehicleWidth: 40, cropTargetWidth: 224, maxCropScale: 3, cropPixelBudget: 250_000, frameSide: 512 };

export class PpocrPlateDetector implements PlateDetector {
  private readonly db: DbOptions;
  private readonly shape: PlateShape;
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly o: PpocrPlateOptions,
  ) {
    this.db = { ...DEFAULT_DB, ...o.db };
    this.shape = { ...DEFAULT_PLATE_SHAPE, ...o.shape };
  }

  static async create(path: string, o: Partial<PpocrPlateOptions> = {}): Promise<PpocrPlateDetector> {
    const opts = { ...DEFAULT_PPOCR, ...o };
    const session = await ort.InferenceSession.create(path, { executionProviders: ['cpu'], intraOpNumThreads: opts.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    removeOrtDebugLog(); // onnxruntime's empty $TMPDIR/mat-debug-<pid>.log
    return new PpocrPlateDetector(session, opts);
  }

  async detect(image: RgbImage, vehicles: readonly Box[]): Promise<ScoredBox[]> {
    const plates: ScoredBox[] = [];
    if (this.o.frameSide > 0) {
      const whole = { x: 0, y: 0, w: image.width, h: image.height };
      for (const t of await this.textBoxes(image, whole, Math.min(1, this.o.frameSide / Math.max(image.width, image.height)))) if (isPlateShapedAlone(t.box, image, this.shape)) plates.push({ box: plateFromText(t.box), score: t.score });
    }
    for (const { vehicle, crop, scale } of this.crops(image, vehicles))
      for (const t of await this.textBoxes(image, crop, scale)) if (isPlateShaped(t.box, vehicle, this.shape)) plates.push({ box: plateFromText(t.box), score: t.score });
    return nms(plates, 0.5);
  }

  /** Vehicle crops and their scales, kept within the pixel budget. */
  private crops(image: RgbImage, vehicles: readonly Box[]): Array<{ vehicle: Box; crop: Box; scale: number }> {
    const out: Array<{ vehicle: Box; crop: Box; scale: number }> = [];
    for (const v of vehicles) {
      if (v.w < this.o.minVehicleWidth) continue;
      const crop = clipBox({ x: v.x - 0.05 * v.w, y: v.y - 0.05 * v.h, w: v.w * 1.1, h: v.h * 1.1 }, image.width, image.height);
      if (crop) out.push({ vehicle: v, crop, scale: Math.min(this.o.maxCropScale, Math.max(1, this.o.cropTargetWidth / v.w)) });
    }
    const pixels = out.reduce((a, c) => a + c.crop.w * c.crop.h * c.scale * c.scale, 0);
    const shrink = pixels > this.o.cropPixelBudget ? Math.sqrt(this.o.cropPixelBudget / pixels) : 1;
    for (const c of out) c.scale *= shrink;
    return out;
  }

  /** Text boxes in one crop (whole pixels inside the image) resized by `scale`, in image pixels. */
  private async textBoxes(image: RgbImage, crop: Box, scale: number): Promise<ScoredBox[]> {
    const w = roundUp(crop.w * scale, 32);
    const h = roundUp(crop.h * scale, 32);
    const rgb = await cropResize(image, crop, w, h);
    const input = new ort.Tensor('float32', toImagenetTensor(rgb, w, h), [1, 3, h, w]);
    const [inputName] = this.session.inputNames;
    const [outputName] = this.session.outputNames;
    if (inputName === undefined || outputName === undefined) throw new Error('the plate text model has no input or no output');
    const r = await this.session.run({ [inputName]: input });
    const output = r[outputName];
    if (!output) throw new Error(`the plate text model returned no ${outputName}`);
    const prob = output.data as Float32Array;
    const sx = crop.w / w;
    const sy = crop.h / h;
    return dbBoxes(prob, w, h, this.db).map((t) => ({ score: t.score, box: { x: crop.x + t.box.x * sx, y: crop.y + t.box.y * sy, w: t.box.w * sx, h: t.box.h * sy } }));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
