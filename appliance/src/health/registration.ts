// Where did the static scene go? Normalised cross-correlation of two edge maps over a window of
// shifts, coarse to fine on a three-level pyramid, then a parabola through the peak for sub-pixel
// precision. Edges rather than grey levels, so a change of
// light (clouds, headlights) moves the correlation much less than a turned camera does.
import { halve } from './image-stats.js';

/** Search radius at the quarter level (px of the 40-px-wide map). */
export const COARSE_R = 4;

export interface ShiftEstimate {
  /** Shift of the current scene relative to the reference, in pixels of the map given (x right, y down). */
  dx: number;
  dy: number;
  /** NCC at the estimated shift and at no shift (−1..1). */
  peak: number;
  zero: number;
}

/** NCC of `ref` (interior window, margin m) with `cur` displaced by (dx, dy). */
function ncc(ref: Float32Array, cur: Float32Array, w: number, h: number, m: number, dx: number, dy: number): number {
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  let n = 0;
  // The margin m is at least the shift (|dx|, |dy| ≤ m): both rows stay inside the w×h greys.
  for (let y = m; y < h - m; y++) {
    const ra = y * w;
    const rb = (y + dy) * w + dx;
    for (let x = m; x < w - m; x++) {
      const a = ref[ra + x]!;
      const b = cur[rb + x]!;
      sa += a;
      sb += b;
      saa += a * a;
      sbb += b * b;
      sab += a * b;
      n++;
    }
  }
  const cov = sab - (sa * sb) / n;
  const va = saa - (sa * sa) / n;
  const vb = sbb - (sb * sb) / n;
  if (va <= 1e-9 || vb <= 1e-9) return 0;
  return cov / Math.sqrt(va * vb);
}

/** Sub-pixel offset of a peak from three samples (−0.5..0.5). */
function parabola(l: number, c: number, r: number): number {
  const den = l - 2 * c + r;
  if (den >= 0) return 0;
  return Math.max(-0.5, Math.min(0.5, (0.5 * (l - r)) / den));
}

/** Best shift of `cur` against `ref` in a (2r+1)² window around (cx, cy); the grid of NCCs kept for sub-pixel. */
function search(ref: Float32Array, cur: Float32Array, w: number, h: number, m: number, cx: number, cy: number, r: number) {
  let best = -2;
  let bx = cx;
  let by = cy;
  const grid = new Float64Array((2 * r + 1) ** 2);
  for (let j = -r; j <= r; j++) {
    for (let i = -r; i <= r; i++) {
      const c = ncc(ref, cur, w, h, m, cx + i, cy + j);
      grid[(j + r) * (2 * r + 1) + (i + r)] = c;
      if (c > best) {
        best = c;
        bx = cx + i;
        by = cy + j;
      }
    }
  }
  return { best, bx, by, grid };
}

/**
 * Pyramid of three levels (quarter, half, full): ±COARSE_R at the quarter level (±4 px of 40 = ±10 %
 * of the width), then ±1 around twice the peak at each finer level, then a parabola for sub-pixel.
 */
export function estimateShift(ref: Float32Array, cur: Float32Array, w: number, h: number): ShiftEstimate {
  const w2 = w >> 1;
  const h2 = h >> 1;
  const w4 = w2 >> 1;
  const h4 = h2 >> 1;
  const ref2 = halve(ref, w, h);
  const cur2 = halve(cur, w, h);
  const ref4 = halve(ref2, w2, h2);
  const cur4 = halve(cur2, w2, h2);
  const q = search(ref4, cur4, w4, h4, COARSE_R, 0, 0, COARSE_R);
  const half = search(ref2, cur2, w2, h2, 2 * COARSE_R + 1, 2 * q.bx, 2 * q.by, 1);
  const m = 4 * COARSE_R + 3;
  const full = search(ref, cur, w, h, m, 2 * half.bx, 2 * half.by, 1);
  const g = full.grid;
  let sx = 0;
  let sy = 0;
  const cx = 2 * half.bx;
  const cy = 2 * half.by;
  // The full-level search has r = 1: g is the 3×3 grid around the peak.
  if (full.bx === cx && full.by === cy) {
    sx = parabola(g[3]!, g[4]!, g[5]!);
    sy = parabola(g[1]!, g[4]!, g[7]!);
  }
  const zero = cx === 0 && cy === 0 ? g[4]! : ncc(ref, cur, w, h, m, 0, 0);
  return { dx: full.bx + sx, dy: full.by + sy, peak: full.best, zero };
}
