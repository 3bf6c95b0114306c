// Where did the static scene go? Normalised cross-correlation of two edge maps over a window of
// shifts, coarse to fine: ±COARSE_R at half resolution, then ±1 at full resolution around it, then a
// parabola through the peak for sub-pixel precision. Edges rather than grey levels, so a change of
// light (clouds, headlights) moves the correlation much less than a turned camera does.
import { halve } from './image-stats.js';

export const COARSE_R = 8;

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
  for (let y = m; y < h - m; y++) {
    const ra = y * w;
    const rb = (y + dy) * w + dx;
    for (let x = m; x < w - m; x++) {
      const a = ref[ra + x];
      const b = cur[rb + x];
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

export function estimateShift(ref: Float32Array, cur: Float32Array, w: number, h: number): ShiftEstimate {
  const w2 = w >> 1;
  const h2 = h >> 1;
  const refC = halve(ref, w, h);
  const curC = halve(cur, w, h);
  let best = -2;
  let bx = 0;
  let by = 0;
  for (let dy = -COARSE_R; dy <= COARSE_R; dy++) {
    for (let dx = -COARSE_R; dx <= COARSE_R; dx++) {
      const c = ncc(refC, curC, w2, h2, COARSE_R, dx, dy);
      if (c > best) {
        best = c;
        bx = dx;
        by = dy;
      }
    }
  }
  // Refine at full resolution: 3x3 around twice the coarse peak.
  const m = 2 * COARSE_R + 2;
  const grid = new Float64Array(9);
  let fbest = -2;
  let fx = 0;
  let fy = 0;
  for (let j = -1; j <= 1; j++) {
    for (let i = -1; i <= 1; i++) {
      const c = ncc(ref, cur, w, h, m, 2 * bx + i, 2 * by + j);
      grid[(j + 1) * 3 + (i + 1)] = c;
      if (c > fbest) {
        fbest = c;
        fx = i;
        fy = j;
      }
    }
  }
  let sx = 0;
  let sy = 0;
  if (fx === 0 && fy === 0) {
    sx = parabola(grid[3], grid[4], grid[5]);
    sy = parabola(grid[1], grid[4], grid[7]);
  }
  const zero = bx === 0 && by === 0 ? grid[4] : ncc(ref, cur, w, h, m, 0, 0);
  return { dx: 2 * bx + fx + sx, dy: 2 * by + fy + sy, peak: fbest, zero };
}
