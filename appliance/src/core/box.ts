// Box arithmetic every stage shares (pixels or relative units alike), written once.
import type { Box, Point } from './types.js';

/** The point of a box that touches the road: bottom-centre. */
export function anchorOf(box: Box): Point {
  return { x: box.x + box.w / 2, y: box.y + box.h };
}

/** Area of the overlap of two boxes (0 when they do not overlap). */
export function intersectionArea(a: Box, b: Box): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Share of box a's area inside box b (0 for an empty a). */
export function coverage(a: Box, b: Box): number {
  return a.w <= 0 || a.h <= 0 ? 0 : intersectionArea(a, b) / (a.w * a.h);
}

export function iou(a: Box, b: Box): number {
  const inter = intersectionArea(a, b);
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}
