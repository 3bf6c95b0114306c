// Cheap image statistics for the health checks, computed on small grey copies of the analysed frame:
// a 320x180 grey (sharpness, frame-to-frame change) sampled straight from the RGB buffer (one pixel
// per cell, no full-resolution pass), and a 160x90 grey (exposure, blocks, edges) averaged from it.
// Non-16:9 frames are stretched: every measure is relative, shifts are scaled back to frame pixels.
import type { RgbImage } from '../core/types.js';

export const FINE_W = 320;
export const FINE_H = 180;
export const SMALL_W = 160;
export const SMALL_H = 90;
/** Block grid of the covered check (8 x 6 blocks of 20 x 15 small pixels). */
export const BLOCK_COLS = 8;
export const BLOCK_ROWS = 6;

export interface GreySample {
  fine: Float32Array; // FINE_W * FINE_H, 0..255
  small: Float32Array; // SMALL_W * SMALL_H, 0..255
}

const offsetCache = new Map<string, { xs: Int32Array; ys: Int32Array }>();

/** Byte offsets of the sampled column and row of every fine cell, per source size (cached). */
function offsetsFor(width: number, height: number): { xs: Int32Array; ys: Int32Array } {
  const key = `${width}x${height}`;
  let o = offsetCache.get(key);
  if (!o) {
    const xs = new Int32Array(FINE_W);
    const ys = new Int32Array(FINE_H);
    for (let x = 0; x < FINE_W; x++) xs[x] = Math.min(width - 1, Math.floor(((x + 0.5) * width) / FINE_W)) * 3;
    for (let y = 0; y < FINE_H; y++) ys[y] = Math.min(height - 1, Math.floor(((y + 0.5) * height) / FINE_H)) * width * 3;
    o = { xs, ys };
    offsetCache.set(key, o);
  }
  return o;
}

/**
 * The two grey copies of an RGB frame (BT.601 luma, integer weights). The fine one takes one pixel
 * per cell (point sampling keeps the detail the focus measure needs, and reads 1/16 of a 720p frame);
 * the small one averages 2x2 fine pixels (less noise for exposure, blocks and edges).
 */
export function greySample(img: RgbImage): GreySample {
  const { xs, ys } = offsetsFor(img.width, img.height);
  const d = img.data;
  const fine = new Float32Array(FINE_W * FINE_H);
  // xs, ys hold FINE_W and FINE_H offsets of pixels inside the frame, whose data holds width×height×3 bytes.
  for (let y = 0; y < FINE_H; y++) {
    const r = ys[y]!;
    const row = y * FINE_W;
    for (let x = 0; x < FINE_W; x++) {
      const i = r + xs[x]!;
      fine[row + x] = (77 * d[i]! + 150 * d[i + 1]! + 29 * d[i + 2]!) / 256;
    }
  }
  return { fine, small: halve(fine, FINE_W, FINE_H) };
}

/** 2x2 box average. */
export function halve(src: Float32Array, w: number, h: number): Float32Array {
  const w2 = w >> 1;
  const h2 = h >> 1;
  const out = new Float32Array(w2 * h2);
  // 2x + 1 < w and 2y + 1 < h: each 2×2 block is inside src (w×h).
  for (let y = 0; y < h2; y++) {
    const a = 2 * y * w;
    const b = a + w;
    for (let x = 0; x < w2; x++) out[y * w2 + x] = (src[a + 2 * x]! + src[a + 2 * x + 1]! + src[b + 2 * x]! + src[b + 2 * x + 1]!) / 4;
  }
  return out;
}

export interface ExposureStats {
  mean: number;
  std: number;
  /** Share of pixels below 25 and above 245 (0..1). */
  darkFraction: number;
  brightFraction: number;
}

export function exposure(g: Float32Array): ExposureStats {
  let s = 0;
  let s2 = 0;
  let dark = 0;
  let bright = 0;
  for (const v of g) {
    s += v;
    s2 += v * v;
    if (v < 25) dark++;
    else if (v > 245) bright++;
  }
  const n = g.length;
  const mean = s / n;
  return { mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)), darkFraction: dark / n, brightFraction: bright / n };
}

/** Variance of the 4-neighbour Laplacian (focus measure), border excluded. */
export function laplacianVariance(g: Float32Array, w: number, h: number): number {
  let s = 0;
  let s2 = 0;
  let n = 0;
  // Border excluded: the four neighbours of every i are inside g (w×h).
  for (let y = 1; y < h - 1; y++) {
    const row = y * w;
    for (let x = 1; x < w - 1; x++) {
      const i = row + x;
      const l = g[i - 1]! + g[i + 1]! + g[i - w]! + g[i + w]! - 4 * g[i]!;
      s += l;
      s2 += l * l;
      n++;
    }
  }
  const m = s / n;
  return s2 / n - m * m;
}

/** Frame-to-frame change between two fine greys: mean |diff| and share of pixels changed by > 3 levels. */
export function change(a: Float32Array, b: Float32Array): { meanAbsDiff: number; changedFraction: number } {
  let s = 0;
  let changed = 0;
  if (b.length !== a.length) throw new RangeError(`change compares greys of ${a.length} and ${b.length} pixels`);
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    s += d;
    if (d > 3) changed++;
  }
  return { meanAbsDiff: s / a.length, changedFraction: changed / a.length };
}

/** Standard deviation of each block of the small grey (BLOCK_COLS x BLOCK_ROWS, row-major). */
export function blockStd(g: Float32Array): Float32Array {
  const bw = SMALL_W / BLOCK_COLS;
  const bh = SMALL_H / BLOCK_ROWS;
  const out = new Float32Array(BLOCK_COLS * BLOCK_ROWS);
  for (let by = 0; by < BLOCK_ROWS; by++) {
    for (let bx = 0; bx < BLOCK_COLS; bx++) {
      let s = 0;
      let s2 = 0;
      for (let y = by * bh; y < (by + 1) * bh; y++) {
        const row = y * SMALL_W;
        for (let x = bx * bw; x < (bx + 1) * bw; x++) {
          const v = g[row + x]!; // inside the SMALL_W×SMALL_H grey
          s += v;
          s2 += v * v;
        }
      }
      const n = bw * bh;
      const m = s / n;
      out[by * BLOCK_COLS + bx] = Math.sqrt(Math.max(0, s2 / n - m * m));
    }
  }
  return out;
}

/** Sobel gradient magnitude (border = 0). */
export function edgeMap(g: Float32Array, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  // Border excluded: the eight neighbours of every i are inside g (w×h).
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const gx = g[i - w + 1]! + 2 * g[i + 1]! + g[i + w + 1]! - g[i - w - 1]! - 2 * g[i - 1]! - g[i + w - 1]!;
      const gy = g[i + w - 1]! + 2 * g[i + w]! + g[i + w + 1]! - g[i - w - 1]! - 2 * g[i - w]! - g[i - w + 1]!;
      out[i] = Math.sqrt(gx * gx + gy * gy);
    }
  }
  return out;
}

/** Per-pixel median of 3 or 5 equally sized maps: the static scene without passing traffic. */
export function pixelMedian(maps: Float32Array[]): Float32Array {
  const [a, b, c, d, e] = maps;
  const n = a?.length ?? 0;
  if (maps.some((m) => m.length !== n)) throw new RangeError('pixelMedian takes maps of one size');
  // Checked: every map holds n values, so the reads at i < n below are inside.
  const out = new Float32Array(n);
  if (maps.length === 5 && a && b && c && d && e) {
    // Exact median of five with min/max only: med3(e, max(min(a,b), min(c,d)), min(max(a,b), max(c,d))).
    for (let i = 0; i < n; i++) {
      const ai = a[i]!;
      const bi = b[i]!;
      const ci = c[i]!;
      const di = d[i]!;
      const lo1 = ai < bi ? ai : bi;
      const hi1 = ai < bi ? bi : ai;
      const lo2 = ci < di ? ci : di;
      const hi2 = ci < di ? di : ci;
      out[i] = med3(e[i]!, lo1 > lo2 ? lo1 : lo2, hi1 < hi2 ? hi1 : hi2);
    }
  } else if (maps.length === 3 && a && b && c) {
    for (let i = 0; i < n; i++) out[i] = med3(a[i]!, b[i]!, c[i]!);
  } else {
    throw new RangeError(`pixelMedian takes 3 or 5 maps, got ${maps.length}`);
  }
  return out;
}

function med3(a: number, b: number, c: number): number {
  const lo = a < b ? a : b;
  const hi = a < b ? b : a;
  const m = hi < c ? hi : c;
  return lo > m ? lo : m;
}

export function median(xs: ArrayLike<number>): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; // 1 ≤ m < s.length
}
