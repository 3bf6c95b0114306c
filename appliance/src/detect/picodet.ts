// PP-PicoDet (PaddleDetection) decoding: per stride one score tensor [N, 80] (sigmoid applied) and one
// box tensor [N, 4·bins] of GFL distributions (softmax over the bins of each side, expectation × stride)
// around the cell's centre. Boxes come back in image pixels; NMS is the caller's.
import type { Detection } from '../core/types.js';
import { COCO_TO_CLASS } from './yolox.js';

export interface PicodetDecodeOptions {
  inputWidth: number;
  inputHeight: number;
  strides: readonly number[];
  numClasses: number;
  /** bins per box side (reg_max + 1) */
  bins: number;
  scaleX: number;
  scaleY: number;
  imageWidth: number;
  imageHeight: number;
  scoreThreshold: number;
}

/** `scores[i]` and `boxes[i]` belong to strides[i]. */
export function decodePicodet(scores: readonly Float32Array[], boxes: readonly Float32Array[], o: PicodetDecodeOptions): Detection[] {
  const out: Detection[] = [];
  const dist = new Float64Array(o.bins);
  o.strides.forEach((s, level) => {
    const sc = scores[level]!;
    const bx = boxes[level]!;
    const gw = Math.ceil(o.inputWidth / s);
    const n = sc.length / o.numClasses;
    for (let i = 0; i < n; i++) {
      let best = -1;
      let bestScore = o.scoreThreshold;
      for (const [idx] of COCO_TO_CLASS) {
        const v = sc[i * o.numClasses + idx]!;
        if (v >= bestScore) {
          bestScore = v;
          best = idx;
        }
      }
      if (best < 0) continue;
      const cx = (i % gw) * s + (s - 1) / 2;
      const cy = Math.floor(i / gw) * s + (s - 1) / 2;
      const side = (k: number): number => {
        const base = i * 4 * o.bins + k * o.bins;
        let max = -Infinity;
        for (let b = 0; b < o.bins; b++) max = Math.max(max, bx[base + b]!);
        let sum = 0;
        for (let b = 0; b < o.bins; b++) sum += dist[b] = Math.exp(bx[base + b]! - max);
        let e = 0;
        for (let b = 0; b < o.bins; b++) e += (dist[b]! / sum) * b;
        return e * s;
      };
      const x0 = Math.max(0, (cx - side(0)) / o.scaleX);
      const y0 = Math.max(0, (cy - side(1)) / o.scaleY);
      const x1 = Math.min(o.imageWidth, (cx + side(2)) / o.scaleX);
      const y1 = Math.min(o.imageHeight, (cy + side(3)) / o.scaleY);
      if (x1 - x0 < 1 || y1 - y0 < 1) continue;
      out.push({ box: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, cls: COCO_TO_CLASS.get(best)!, score: bestScore });
    }
  });
  return out;
}
