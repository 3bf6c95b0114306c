// YOLOX (Megvii) decoding: letterbox to the square input (top-left, pad 114), raw grid regressions
// per stride, objectness x class score, class-wise NMS. Mirrors YOLOX's demo_postprocess.
import sharp from 'sharp';
import type { Detection, ObjectClass, RgbImage } from '../core/types.js';
import { classWiseNms } from './nms.js';

/** COCO-80 index → the classes we keep. Others (traffic lights, dogs...) are dropped. */
export const COCO_TO_CLASS: ReadonlyMap<number, ObjectClass> = new Map([
  [0, 'person'],
  [1, 'bicycle'],
  [2, 'car'],
  [3, 'motorcycle'],
  [5, 'bus'],
  [7, 'truck'],
]);

export interface Letterbox {
  /** NCHW float32 BGR 0..255 */
  tensor: Float32Array;
  scale: number;
}

export async function letterbox(image: RgbImage, size: number, pad = 114): Promise<Letterbox> {
  const scale = Math.min(size / image.width, size / image.height);
  const w = Math.max(1, Math.round(image.width * scale));
  const h = Math.max(1, Math.round(image.height * scale));
  const resized =
    w === image.width && h === image.height
      ? image.data
      : await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
          .resize(w, h, { fit: 'fill', kernel: 'linear' })
          .raw()
          .toBuffer();
  const plane = size * size;
  const tensor = new Float32Array(3 * plane).fill(pad);
  for (let y = 0; y < h; y++) {
    let src = y * w * 3;
    let dst = y * size;
    for (let x = 0; x < w; x++, src += 3, dst++) {
      tensor[dst] = resized[src + 2]; // B
      tensor[plane + dst] = resized[src + 1]; // G
      tensor[2 * plane + dst] = resized[src]; // R
    }
  }
  return { tensor, scale };
}

export interface DecodeOptions {
  inputSize: number;
  strides: readonly number[];
  numClasses: number;
  scale: number;
  imageWidth: number;
  imageHeight: number;
  scoreThreshold: number;
  nmsIou: number;
}

/** Decodes the [1, N, 5 + classes] output into detections in image pixels. */
export function decodeYolox(out: Float32Array, o: DecodeOptions): Detection[] {
  const stride = 5 + o.numClasses;
  const candidates: Detection[] = [];
  let row = 0;
  for (const s of o.strides) {
    const g = o.inputSize / s;
    for (let gy = 0; gy < g; gy++) {
      for (let gx = 0; gx < g; gx++, row++) {
        const base = row * stride;
        const obj = out[base + 4];
        if (obj < o.scoreThreshold) continue;
        let best = -1;
        let bestScore = 0;
        for (const [idx] of COCO_TO_CLASS) {
          const sc = out[base + 5 + idx];
          if (sc > bestScore) {
            bestScore = sc;
            best = idx;
          }
        }
        const score = obj * bestScore;
        if (best < 0 || score < o.scoreThreshold) continue;
        const cx = ((out[base] + gx) * s) / o.scale;
        const cy = ((out[base + 1] + gy) * s) / o.scale;
        const w = (Math.exp(out[base + 2]) * s) / o.scale;
        const h = (Math.exp(out[base + 3]) * s) / o.scale;
        const x0 = Math.max(0, cx - w / 2);
        const y0 = Math.max(0, cy - h / 2);
        const x1 = Math.min(o.imageWidth, cx + w / 2);
        const y1 = Math.min(o.imageHeight, cy + h / 2);
        if (x1 - x0 < 1 || y1 - y0 < 1) continue;
        candidates.push({ box: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, cls: COCO_TO_CLASS.get(best)!, score });
      }
    }
  }
  return classWiseNms(candidates, o.nmsIou);
}
