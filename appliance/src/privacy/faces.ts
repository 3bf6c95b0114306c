// Face detection with YuNet (libfacedetection, 2023 heads): outputs cls_/obj_/bbox_/kps_ for strides
// 8/16/32, one prior per grid cell, scores already sigmoid. Decoding follows OpenCV's FaceDetectorYN:
// score = sqrt(cls * obj), centre = (col + dx, row + dy) * stride, size = exp(dw|dh) * stride.
// Run at several scales: an overview for faces larger than the model's receptive field, native
// resolution, and 2x upscaled tiles for the small faces a road camera mostly sees.
import * as ort from 'onnxruntime-node';
import type { Box, RgbImage } from '../core/types.js';
import { nms, type ScoredBox } from './geometry.js';
import { cropResize, roundUp, toBgrTensor } from './resize.js';
import { removeOrtDebugLog } from '../core/leftovers.js';

/** Finds faces; boxes are tight (YuNet's) in pixels of the image given. */
export interface FaceDetector {
  /** `persons`: person boxes whose heads are also looked at upscaled (faces too small for the frame pass). */
  detect(image: RgbImage, persons?: readonly Box[]): Promise<ScoredBox[]>;
  close(): Promise<void>;
}

export const YUNET_STRIDES = [8, 16, 32] as const;

export interface YunetOutputs {
  cls: Float32Array[];
  obj: Float32Array[];
  bbox: Float32Array[];
}

/** Decodes one YuNet run on a padW x padH input; boxes in input pixels. */
export function decodeYunet(out: YunetOutputs, padW: number, padH: number, scoreThreshold: number): ScoredBox[] {
  const faces: ScoredBox[] = [];
  YUNET_STRIDES.forEach((stride, i) => {
    const cols = padW / stride;
    const rows = padH / stride;
    const cls = out.cls[i];
    const obj = out.obj[i];
    const bbox = out.bbox[i];
    if (!cls || !obj || !bbox) throw new Error(`YuNet stride ${stride}: no output`);
    if (cls.length !== rows * cols || obj.length !== rows * cols || bbox.length !== rows * cols * 4) throw new Error(`YuNet stride ${stride}: unexpected output size ${cls.length} for ${cols}x${rows}`);
    // Checked above: idx < rows × cols, so every read below is inside cls, obj and bbox.
    for (let r = 0, idx = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++, idx++) {
        const score = Math.sqrt(clamp01(cls[idx]!) * clamp01(obj[idx]!));
        if (score < scoreThreshold) continue;
        const cx = (c + bbox[idx * 4]!) * stride;
        const cy = (r + bbox[idx * 4 + 1]!) * stride;
        const w = Math.exp(bbox[idx * 4 + 2]!) * stride;
        const h = Math.exp(bbox[idx * 4 + 3]!) * stride;
        faces.push({ box: { x: cx - w / 2, y: cy - h / 2, w, h }, score });
      }
    }
  });
  return faces;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** One detector input: a region of the image resized by `scale`, answering for faces up to `maxFace` model px. */
export interface FacePass {
  region: Box;
  scale: number;
  maxFace: number;
}

export interface FacePassOptions {
  /** Long side of the overview pass (faces bigger than YuNet's largest priors). */
  overviewSide: number;
  /** Upscale factor for small faces (1 = off). */
  upscale: number;
  /** Largest tile edge fed to the model, in model pixels (bounds memory and time). */
  tileSide: number;
  /** Tile overlap in model pixels: a face smaller than this is whole in at least one tile. */
  tileOverlap: number;
  /**
   * Largest face (model px) a pass answers for when a coarser pass covers bigger ones. Large boxes from
   * fine passes are mostly texture firing the stride-32 head; the coarser pass sees real ones whole.
   */
  handOver: number;
  /** The upscaled whole-frame pass runs only while it stays under this many model pixels (cost). */
  upscaleMaxPixels: number;
  /** Person crops are upscaled so the person is this wide (a face about half of it), at most maxPersonScale. */
  personTargetWidth: number;
  maxPersonScale: number;
}

export const DEFAULT_FACE_PASSES: FacePassOptions = { overviewSide: 640, upscale: 2, tileSide: 1280, tileOverlap: 128, handOver: 160, upscaleMaxPixels: 1_400_000, personTargetWidth: 48, maxPersonScale: 4 };

/** The passes for an image: overview (when larger than it), native, upscaled; big ones tiled. */
export function facePasses(width: number, height: number, o: FacePassOptions = DEFAULT_FACE_PASSES): FacePass[] {
  const passes: FacePass[] = [];
  const long = Math.max(width, height);
  const overview = long > o.overviewSide;
  if (overview) passes.push({ region: { x: 0, y: 0, w: width, h: height }, scale: o.overviewSide / long, maxFace: Infinity });
  const scales = o.upscale > 1 && width * height * o.upscale ** 2 <= o.upscaleMaxPixels ? [1, o.upscale] : [1];
  for (const scale of scales) {
    const tile = o.tileSide / scale; // in image pixels
    const overlap = o.tileOverlap / scale;
    // native answers for everything unless an overview exists; upscaled only for what native sees small
    const maxFace = scale === 1 ? (overview ? o.handOver * Math.max(1, (long / o.overviewSide) / 2) : Infinity) : o.handOver;
    for (const ys of spans(height, tile, overlap)) for (const xs of spans(width, tile, overlap)) passes.push({ region: { x: xs[0], y: ys[0], w: xs[1], h: ys[1] }, scale, maxFace });
  }
  return passes;
}

/**
 * Upscaled passes over the head area of small persons: their faces (8-16 px) are below what the frame
 * pass finds, and a person crop is far cheaper than upscaling the frame. The head area follows the
 * box's shape, like the fallback (fallback.ts headRegion).
 */
export function personPasses(persons: readonly Box[], width: number, height: number, o: FacePassOptions = DEFAULT_FACE_PASSES): FacePass[] {
  const passes: FacePass[] = [];
  for (const p of persons) {
    if (p.w <= 0 || p.h <= 0 || p.w >= o.personTargetWidth) continue;
    const scale = Math.min(o.maxPersonScale, o.personTargetWidth / p.w);
    const r = headSearchArea(p);
    const x = Math.max(0, Math.floor(r.x));
    const y = Math.max(0, Math.floor(r.y));
    const w = Math.min(width, Math.ceil(r.x + r.w)) - x;
    const h = Math.min(height, Math.ceil(r.y + r.h)) - y;
    if (w >= 2 && h >= 2) passes.push({ region: { x, y, w, h }, scale, maxFace: o.handOver });
  }
  return passes;
}

/** Where a head can be in a person box: the top for an upright person, anywhere for a seen-from-above one. */
function headSearchArea(p: Box): Box {
  const aspect = p.h / p.w;
  const depth = aspect >= 1.6 ? 0.45 : 1;
  return { x: p.x - 0.25 * p.w, y: p.y - 0.15 * p.h, w: 1.5 * p.w, h: p.h * (depth + 0.15) };
}

/** [start, length] spans of at most `tile` covering 0..size with at least `overlap` shared. */
function spans(size: number, tile: number, overlap: number): Array<[number, number]> {
  if (size <= tile) return [[0, size]];
  const n = Math.ceil((size - overlap) / (tile - overlap));
  const len = Math.ceil((size + (n - 1) * overlap) / n);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const start = Math.min(size - len, Math.round(i * (len - overlap)));
    out.push([Math.max(0, start), Math.min(len, size)]);
  }
  return out;
}

export class YunetFaceDetector implements FaceDetector {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly scoreThreshold: number,
    private readonly passOptions: FacePassOptions,
  ) {}

  /** Throws when the file cannot be loaded; the caller maps that to 'model-error'. */
  static async create(path: string, o: { scoreThreshold: number; threads: number; passes?: Partial<FacePassOptions> }): Promise<YunetFaceDetector> {
    const session = await ort.InferenceSession.create(path, { executionProviders: ['cpu'], intraOpNumThreads: o.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    removeOrtDebugLog(); // onnxruntime's empty $TMPDIR/mat-debug-<pid>.log
    for (const n of ['cls_8', 'obj_8', 'bbox_8']) if (!session.outputNames.includes(n)) throw new Error(`${path} is not a YuNet model (no output ${n})`);
    return new YunetFaceDetector(session, o.scoreThreshold, { ...DEFAULT_FACE_PASSES, ...o.passes });
  }

  async detect(image: RgbImage, persons: readonly Box[] = []): Promise<ScoredBox[]> {
    const all: ScoredBox[] = [];
    for (const p of [...facePasses(image.width, image.height, this.passOptions), ...personPasses(persons, image.width, image.height, this.passOptions)]) {
      const region = { x: Math.round(p.region.x), y: Math.round(p.region.y), w: Math.round(p.region.w), h: Math.round(p.region.h) };
      const w = Math.max(1, Math.round(region.w * p.scale));
      const h = Math.max(1, Math.round(region.h * p.scale));
      const padW = roundUp(w, 32);
      const padH = roundUp(h, 32);
      const rgb = await cropResize(image, region, w, h);
      const input = new ort.Tensor('float32', toBgrTensor(rgb, w, h, padW, padH), [1, 3, padH, padW]);
      const [inputName] = this.session.inputNames;
      if (inputName === undefined) throw new Error('the YuNet model has no input');
      const r = await this.session.run({ [inputName]: input });
      const get = (k: string): Float32Array => {
        const output = r[k];
        if (!output) throw new Error(`the YuNet model returned no ${k}`);
        return output.data as Float32Array;
      };
      const out: YunetOutputs = {
        cls: YUNET_STRIDES.map((s) => get(`cls_${s}`)),
        obj: YUNET_STRIDES.map((s) => get(`obj_${s}`)),
        bbox: YUNET_STRIDES.map((s) => get(`bbox_${s}`)),
      };
      const sx = region.w / w;
      const sy = region.h / h;
      for (const f of decodeYunet(out, padW, padH, this.scoreThreshold)) {
        if (Math.max(f.box.w, f.box.h) > p.maxFace) continue;
        all.push({ score: f.score, box: { x: region.x + f.box.x * sx, y: region.y + f.box.y * sy, w: f.box.w * sx, h: f.box.h * sy } });
      }
    }
    return nms(all, 0.4);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
