// ATSS decoding of Open Model Zoo's person-vehicle-bike-detection-2003 (road-camera detector; see
// ../shared/models/SOURCES.md): per stride one class map [A·C, h, w], one centerness map [A, h, w]
// and one regression map [A·4, h, w] (logits, no sigmoid), A anchors of fixed shape per level.
// Boxes come back in image pixels with the model's coarse classes mapped to ours; NMS is the caller's.
import type { Detection, ObjectClass } from '../core/types.js';

export interface AtssDecodeOptions {
  inputWidth: number;
  inputHeight: number;
  strides: readonly number[];
  /** anchor [w, h] at the first stride, in input pixels; doubled per level with the stride */
  baseAnchors: ReadonlyArray<readonly [number, number]>;
  /** model class index → our class (a 'vehicle' is a car until the tracker hears otherwise) */
  classes: readonly ObjectClass[];
  scaleX: number;
  scaleY: number;
  imageWidth: number;
  imageHeight: number;
  scoreThreshold: number;
  /** added to the boxes after scaling (the crop's origin when the detector ran on a region) */
  offsetX?: number;
  offsetY?: number;
}

/** The box deltas are scaled by (0.1, 0.1, 0.2, 0.2); a width/height log-ratio is clamped at ln(1000/16). */
const MAX_LOG_RATIO = Math.log(1000 / 16);
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * `cls[i]`, `ctr[i]`, `reg[i]` belong to strides[i] (NCHW, batch 1). Score = sigmoid(class) × sigmoid(centerness).
 */
export function decodeAtss(cls: readonly Float32Array[], ctr: readonly Float32Array[], reg: readonly Float32Array[], o: AtssDecodeOptions): Detection[] {
  const out: Detection[] = [];
  const A = o.baseAnchors.length;
  const C = o.classes.length;
  const s0 = o.strides[0] ?? 8;
  const ox = o.offsetX ?? 0;
  const oy = o.offsetY ?? 0;
  // sigmoid(c)·sigmoid(t) ≥ thr needs sigmoid(c) ≥ thr: skip most cells on the class logit alone.
  const minLogit = Math.log(o.scoreThreshold / (1 - o.scoreThreshold));
  o.strides.forEach((s, level) => {
    const cm = cls[level];
    const tm = ctr[level];
    const rm = reg[level];
    if (!cm || !tm || !rm) return;
    const gw = Math.ceil(o.inputWidth / s);
    const gh = Math.ceil(o.inputHeight / s);
    const plane = gw * gh;
    if (cm.length !== A * C * plane || tm.length !== A * plane || rm.length !== A * 4 * plane) {
      throw new Error(`ATSS level ${level} (stride ${s}): tensor sizes do not match a ${gw}x${gh} grid`);
    }
    const k = s / s0;
    for (let a = 0; a < A; a++) {
      const anchor = o.baseAnchors[a];
      if (!anchor) continue;
      const aw = anchor[0] * k;
      const ah = anchor[1] * k;
      for (let cell = 0; cell < plane; cell++) {
        let best = -1;
        let bestLogit = minLogit;
        for (let c = 0; c < C; c++) {
          const v = cm[(a * C + c) * plane + cell] ?? -Infinity;
          if (v >= bestLogit) {
            bestLogit = v;
            best = c;
          }
        }
        const ourClass = o.classes[best];
        if (ourClass === undefined) continue;
        const score = sigmoid(bestLogit) * sigmoid(tm[a * plane + cell] ?? -Infinity);
        if (score < o.scoreThreshold) continue;
        const dx = rm[(a * 4) * plane + cell] ?? 0;
        const dy = rm[(a * 4 + 1) * plane + cell] ?? 0;
        const dw = rm[(a * 4 + 2) * plane + cell] ?? 0;
        const dh = rm[(a * 4 + 3) * plane + cell] ?? 0;
        const cx = (cell % gw) * s + aw * 0.1 * dx;
        const cy = Math.floor(cell / gw) * s + ah * 0.1 * dy;
        const w = aw * Math.exp(Math.max(-MAX_LOG_RATIO, Math.min(MAX_LOG_RATIO, 0.2 * dw)));
        const h = ah * Math.exp(Math.max(-MAX_LOG_RATIO, Math.min(MAX_LOG_RATIO, 0.2 * dh)));
        const x0 = Math.max(ox, (cx - w / 2) / o.scaleX + ox);
        const y0 = Math.max(oy, (cy - h / 2) / o.scaleY + oy);
        const x1 = Math.min(o.imageWidth, (cx + w / 2) / o.scaleX + ox);
        const y1 = Math.min(o.imageHeight, (cy + h / 2) / o.scaleY + oy);
        if (x1 - x0 < 1 || y1 - y0 < 1) continue;
        out.push({ box: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, cls: ourClass, score });
      }
    }
  });
  return out;
}
