// Small plane-geometry helpers in relative frame coordinates (0..1 on both axes).
import type { Point } from '../core/types.js';

export function pointInPolygon(p: Point, poly: readonly Point[]): boolean {
  let inside = false;
  // Each edge (b → a), b the previous vertex, starting with the closing edge from the last one.
  let b = poly[poly.length - 1];
  for (const a of poly) {
    if (b && a.y > p.y !== b.y > p.y && p.x < ((b.x - a.x) * (p.y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
    b = a;
  }
  return inside;
}

/** Distance from p along unit direction d to the border of the unit square (0 if p is outside). */
export function distanceToFrameEdge(p: Point, d: Point): number {
  let best = Number.POSITIVE_INFINITY;
  if (d.x > 1e-12) best = Math.min(best, (1 - p.x) / d.x);
  if (d.x < -1e-12) best = Math.min(best, -p.x / d.x);
  if (d.y > 1e-12) best = Math.min(best, (1 - p.y) / d.y);
  if (d.y < -1e-12) best = Math.min(best, -p.y / d.y);
  return Math.max(0, best);
}

export function norm(v: Point): number {
  return Math.hypot(v.x, v.y);
}

export function unit(v: Point): Point {
  const n = norm(v);
  return n > 0 ? { x: v.x / n, y: v.y / n } : { x: 0, y: 0 };
}

export function dot(a: Point, b: Point): number {
  return a.x * b.x + a.y * b.y;
}

export function sub(a: Point, b: Point): Point {
  return { x: a.x - b.x, y: a.y - b.y };
}

/** Percentile (0..100) by linear interpolation; null on an empty list. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const idx = ((s.length - 1) * p) / 100;
  const lo = Math.floor(idx);
  const [a, b] = [s[lo], s[Math.ceil(idx)]];
  if (a === undefined || b === undefined) throw new RangeError(`percentile ${p} is outside 0..100`);
  return a + (b - a) * (idx - lo);
}

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}
