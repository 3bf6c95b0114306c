// YOLOX (Megvii) decoding: the input is letterboxed (top-left, pad 114), raw grid regressions per
// stride, objectness x class score. Mirrors YOLOX's demo_postprocess.
import { ModelError } from '../core/models.js';
import type { Detection, ObjectClass } from '../core/types.js';

/** COCO-80 index → the classes we keep. Others (traffic lights, dogs...) are dropped. */
export const COCO_TO_CLASS: ReadonlyMap<number, ObjectClass> = new Map([
  [0, 'person'],
  [1, 'bicycle'],
  [2, 'car'],
  [3, 'motorcycle'],
  [5, 'bus'],
  [7, 'truck'],
]);

export interface DecodeOptions {
  inputWidth: number;
  inputHeight: number;
  strides: readonly number[];
  numClasses: number;
  /** input pixels per image pixel (letterbox: the same on both axes) */
  scale: number;
  imageWidth: number;
  imageHeight: number;
  scoreThreshold: number;
}

/** Decodes the [1, N, 5 + classes] output into candidate detections in image pixels (before NMS). */
export function decodeYolox(out: Float32Array, o: DecodeOptions): Detection[] {
  const stride = 5 + o.numClasses;
  const rows = o.strides.reduce((n, s) => n + Math.ceil(o.inputWidth / s) * Math.ceil(o.inputHeight / s), 0);
  if (out.length < rows * stride) {
    throw new ModelError(`YOLOX output holds ${out.length} values but its ${rows} grid cells need ${rows * stride}: the model does not match its manifest entry`);
  }
  // Checked above: every grid row of 5 + numClasses values lies inside out.
  const candidates: Detection[] = [];
  let row = 0;
  for (const s of o.strides) {
    const gw = o.inputWidth / s;
    const gh = o.inputHeight / s;
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++, row++) {
        const base = row * stride;
        const obj = out[base + 4]!;
        if (obj < o.scoreThreshold) continue;
        let best = -1;
        let bestScore = 0;
        for (const [idx] of COCO_TO_CLASS) {
          const sc = out[base + 5 + idx]!;
          if (sc > bestScore) {
            bestScore = sc;
            best = idx;
          }
        }
        const score = obj * bestScore;
        if (best < 0 || score < o.scoreThreshold) continue;
        const cx = ((out[base]! + gx) * s) / o.scale;
        const cy = ((out[base + 1]! + gy) * s) / o.scale;
        const w = (Math.exp(out[base + 2]!) * s) / o.scale;
        const h = (Math.exp(out[base + 3]!) * s) / o.scale;
        const x0 = Math.max(0, cx - w / 2);
        const y0 = Math.max(0, cy - h / 2);
        const x1 = Math.min(o.imageWidth, cx + w / 2);
        const y1 = Math.min(o.imageHeight, cy + h / 2);
        if (x1 - x0 < 1 || y1 - y0 < 1) continue;
        candidates.push({ box: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, cls: COCO_TO_CLASS.get(best)!, score });
      }
    }
  }
  return candidates;
}
