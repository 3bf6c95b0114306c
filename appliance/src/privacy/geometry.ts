// Box arithmetic for masks: padding, clipping, merging, and how much of a box a mask covers.
import type { Box } from '../core/types.js';
import { iou } from '../core/box.js';

/** Grows a box by fractions of its own size on each side (top/bottom may differ: faces need more forehead). */
export function padBox(b: Box, fx: number, fTop: number, fBottom = fTop): Box {
  return { x: b.x - b.w * fx, y: b.y - b.h * fTop, w: b.w * (1 + 2 * fx), h: b.h * (1 + fTop + fBottom) };
}

/** Clips to the image and snaps outwards to whole pixels; null when nothing is left. */
export function clipBox(b: Box, width: number, height: number): Box | null {
  if (![b.x, b.y, b.w, b.h].every(Number.isFinite)) return null;
  const x1 = Math.max(0, Math.floor(b.x));
  const y1 = Math.max(0, Math.floor(b.y));
  const x2 = Math.min(width, Math.ceil(b.x + b.w));
  const y2 = Math.min(height, Math.ceil(b.y + b.h));
  return x2 > x1 && y2 > y1 ? { x: x1, y: y1, w: x2 - x1, h: y2 - y1 } : null;
}

export interface ScoredBox {
  box: Box;
  score: number;
}

/** Greedy NMS; a mask is a union anyway, this only keeps the box count small. */
export function nms(boxes: ScoredBox[], iouThreshold: number): ScoredBox[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score);
  const kept: ScoredBox[] = [];
  for (const c of sorted) if (kept.every((k) => iou(k.box, c.box) <= iouThreshold)) kept.push(c);
  return kept;
}

/** Share of `target` covered by the union of `mask` boxes (a pixel raster of the target, so overlaps count once). */
export function coveredFraction(target: Box, mask: readonly Box[]): number {
  const t = clipBox(target, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) ?? null;
  if (!t) return 0;
  const hits = new Uint8Array(t.w * t.h);
  for (const m of mask) {
    const x1 = Math.max(t.x, Math.floor(m.x));
    const y1 = Math.max(t.y, Math.floor(m.y));
    const x2 = Math.min(t.x + t.w, Math.ceil(m.x + m.w));
    const y2 = Math.min(t.y + t.h, Math.ceil(m.y + m.h));
    for (let y = y1; y < y2; y++) hits.fill(1, (y - t.y) * t.w + (x1 - t.x), (y - t.y) * t.w + (x2 - t.x));
  }
  let n = 0;
  for (const v of hits) n += v;
  return n / hits.length;
}

/** Share of the image covered by the union of the mask boxes. */
export function maskedAreaFraction(width: number, height: number, mask: readonly Box[]): number {
  return coveredFraction({ x: 0, y: 0, w: width, h: height }, mask);
}
