// Geometry of the lane data, pure: does a box overlap a loop polygon, when (to the millisecond) a
// box moving between two frames starts and stops overlapping it, how much time a set of intervals
// covers. Everything in relative frame coordinates (0..1) unless a name says metres.
import type { Box, Point } from '../core/types.js';
import { dot, pointInPolygon, sub, unit } from './geometry.js';

/** Segments ab and cd intersect (touching counts). */
function segmentsIntersect(a: Point, b: Point, c: Point, d: Point): boolean {
  const cross = (o: Point, p: Point, q: Point) => (p.x - o.x) * (q.y - o.y) - (p.y - o.y) * (q.x - o.x);
  const d1 = cross(c, d, a);
  const d2 = cross(c, d, b);
  const d3 = cross(a, b, c);
  const d4 = cross(a, b, d);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0) || d1 === 0 || d2 === 0) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0) || d3 === 0 || d4 === 0);
}

function corners(b: Box): Point[] {
  return [
    { x: b.x, y: b.y },
    { x: b.x + b.w, y: b.y },
    { x: b.x + b.w, y: b.y + b.h },
    { x: b.x, y: b.y + b.h },
  ];
}

/** The box and the polygon (any simple polygon, convex or not) share area or border. */
export function boxOverlapsPolygon(b: Box, poly: readonly Point[]): boolean {
  // Quick reject on the bounding boxes.
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const p of poly) {
    minX = Math.min(minX, p.x);
    maxX = Math.max(maxX, p.x);
    minY = Math.min(minY, p.y);
    maxY = Math.max(maxY, p.y);
  }
  if (b.x > maxX || b.x + b.w < minX || b.y > maxY || b.y + b.h < minY) return false;
  const c = corners(b);
  for (const p of poly) if (p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h) return true;
  for (const q of c) if (pointInPolygon(q, poly)) return true;
  for (let i = 0; i < poly.length; i++) {
    const p = poly[i];
    const q = poly[(i + 1) % poly.length];
    if (!p || !q) continue;
    for (let k = 0; k < 4; k++) {
      const r = c[k];
      const s = c[(k + 1) % 4];
      if (r && s && segmentsIntersect(p, q, r, s)) return true;
    }
  }
  return false;
}

export function lerpBox(a: Box, b: Box, f: number): Box {
  return { x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f, w: a.w + (b.w - a.w) * f, h: a.h + (b.h - a.h) * f };
}

/**
 * The point of the box furthest along the direction of travel (the vehicle's front as the image
 * shows it): where the ray from the centre along `dir` leaves the box.
 */
export function leadingPoint(b: Box, dir: Point): Point {
  const m = Math.max(Math.abs(dir.x), Math.abs(dir.y)) || 1;
  return { x: b.x + b.w / 2 + (b.w / 2) * (dir.x / m), y: b.y + b.h / 2 + (b.h / 2) * (dir.y / m) };
}

/** Sub-steps per frame interval, and bisection rounds at each change: the change time is found to < 0.01 % of the step. */
const SUB_STEPS = 16;
const BISECTIONS = 12;

/**
 * Times in (t0, t1] at which `inside(f)` changes, f = 0 at t0 and 1 at t1, with the state at t0
 * given: the motion between two frames is taken as linear, so entry and exit times are not
 * rounded to frames (at 10 fps that rounding alone would cost a 20 m/s vehicle 2 m of length).
 */
export function transitions(t0: number, t1: number, insideAt0: boolean, inside: (f: number) => boolean): Array<{ t: number; inside: boolean }> {
  const out: Array<{ t: number; inside: boolean }> = [];
  let state = insideAt0;
  let fPrev = 0;
  for (let k = 1; k <= SUB_STEPS; k++) {
    const f = k / SUB_STEPS;
    const s = inside(f);
    if (s === state) {
      fPrev = f;
      continue;
    }
    let lo = fPrev;
    let hi = f;
    for (let i = 0; i < BISECTIONS; i++) {
      const mid = (lo + hi) / 2;
      if (inside(mid) === state) lo = mid;
      else hi = mid;
    }
    const fc = (lo + hi) / 2;
    out.push({ t: t0 + (t1 - t0) * fc, inside: s });
    state = s;
    fPrev = f;
  }
  return out;
}

/** Total time covered by the union of the intervals, clipped to [from, to). */
export function coveredTime(intervals: ReadonlyArray<readonly [number, number]>, from: number, to: number): number {
  const clipped = intervals
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((p, q) => p[0] - q[0]);
  let total = 0;
  let curA = -Infinity;
  let curB = -Infinity;
  for (const [a, b] of clipped) {
    if (a > curB) {
      if (curB > curA) total += curB - curA;
      curA = a;
      curB = b;
    } else curB = Math.max(curB, b);
  }
  if (curB > curA) total += curB - curA;
  return total;
}

/** Extent (m) of a polygon along a direction on the ground, the direction taken at the polygon's centre. */
export function groundExtentAlong(poly: readonly Point[], dirRel: Point, groundOfRel: (p: Point) => Point | null): number | null {
  const n = poly.length;
  if (n === 0) return null;
  const c = { x: poly.reduce((s, p) => s + p.x, 0) / n, y: poly.reduce((s, p) => s + p.y, 0) / n };
  const g0 = groundOfRel(c);
  const d = unit(dirRel);
  const g1 = groundOfRel({ x: c.x + d.x * 0.01, y: c.y + d.y * 0.01 });
  if (!g0 || !g1) return null;
  const gd = unit(sub(g1, g0));
  const proj: number[] = [];
  for (const p of poly) {
    const g = groundOfRel(p);
    if (!g) return null;
    proj.push(dot(g, gd));
  }
  return Math.max(...proj) - Math.min(...proj);
}

/** Unit direction on the ground of an image direction at a point; null where the mapping fails. */
export function groundDirection(at: Point, dirRel: Point, groundOfRel: (p: Point) => Point | null): Point | null {
  const d = unit(dirRel);
  const g0 = groundOfRel(at);
  const g1 = groundOfRel({ x: at.x + d.x * 0.01, y: at.y + d.y * 0.01 });
  return g0 && g1 ? unit(sub(g1, g0)) : null;
}
