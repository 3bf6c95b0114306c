// Cheap image statistics for the health checks, computed on small grey copies of the analysed frame:
// a 320x180 grey (sharpness, frame-to-frame change) sampled straight from the RGB buffer (2x2 points
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

/** Byte offsets of the 2 sample columns and rows of every fine cell, per source size (cached). */
function offsetsFor(width: number, height: number): { xs: Int32Array; ys: Int32Array } {
  const key = `${width}x${height}`;
  let o = offsetCache.get(key);
  if (!o) {
    const xs = new Int32Array(FINE_W * 2);
    const ys = new Int32Array(FINE_H * 2);
    const cw = width / FINE_W;
    const ch = height / FINE_H;
    for (let x = 0; x < FINE_W; x++) {
      xs[2 * x] = Math.min(width - 1, Math.floor((x + 0.25) * cw)) * 3;
      xs[2 * x + 1] = Math.min(width - 1, Math.floor((x + 0.75) * cw)) * 3;
    }
    for (let y = 0; y < FINE_H; y++) {
      ys[2 * y] = Math.min(height - 1, Math.floor((y + 0.25) * ch)) * width * 3;
      ys[2 * y + 1] = Math.min(height - 1, Math.floor((y + 0.75) * ch)) * width * 3;
    }
    o = { xs, ys };
    offsetCache.set(key, o);
  }
  return o;
}

/** The two grey copies of an RGB frame (BT.601 luma, integer weights). */
export function greySample(img: RgbImage): GreySample {
  const { xs, ys } = offsetsFor(img.width, img.height);
  const d = img.data;
  const fine = new Float32Array(FINE_W * FINE_H);
  for (let y = 0; y < FINE_H; y++) {
    const r0 = ys[2 * y];
    const r1 = ys[2 * y + 1];
    const row = y * FINE_W;
    for (let x = 0; x < FINE_W; x++) {
      const c0 = xs[2 * x];
      const c1 = xs[2 * x + 1];
      let s = 0;
      let i = r0 + c0;
      s += 77 * d[i] + 150 * d[i + 1] + 29 * d[i + 2];
      i = r0 + c1;
      s += 77 * d[i] + 150 * d[i + 1] + 29 * d[i + 2];
      i = r1 + c0;
      s += 77 * d[i] + 150 * d[i + 1] + 29 * d[i + 2];
      i = r1 + c1;
      s += 77 * d[i] + 150 * d[i + 1] + 29 * d[i + 2];
      fine[row + x] = s / 1024;
    }
  }
  return { fine, small: halve(fine, FINE_W, FINE_H) };
}

/** 2x2 box average. */
export function halve(src: Float32Array, w: number, h: number): Float32Array {
  const w2 = w >> 1;
  const h2 = h >> 1;
  const out = new Float32Array(w2 * h2);
  for (let y = 0; y < h2; y++) {
    const a = 2 * y * w;
    const b = a + w;
    for (let x = 0; x < w2; x++) out[y * w2 + x] = (src[a + 2 * x] + src[a + 2 * x + 1] + src[b + 2 * x] + src[b + 2 * x + 1]) / 4;
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
  for (let i = 0; i < g.length; i++) {
    const v = g[i];
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
  for (let y = 1; y < h - 1; y++) {
    const row = y * w;
    for (let x = 1; x < w - 1; x++) {
      const i = row + x;
      const l = g[i - 1] + g[i + 1] + g[i - w] + g[i + w] - 4 * g[i];
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
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
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
          const v = g[row + x];
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
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const gx = g[i - w + 1] + 2 * g[i + 1] + g[i + w + 1] - g[i - w - 1] - 2 * g[i - 1] - g[i + w - 1];
      const gy = g[i + w - 1] + 2 * g[i + w] + g[i + w + 1] - g[i - w - 1] - 2 * g[i - w] - g[i - w + 1];
      out[i] = Math.sqrt(gx * gx + gy * gy);
    }
  }
  return out;
}

/** Per-pixel median of 3 or 5 equally sized maps: the static scene without passing traffic. */
export function pixelMedian(maps: Float32Array[]): Float32Array {
  const n = maps[0].length;
  const out = new Float32Array(n);
  const k = maps.length;
  const v = new Float32Array(k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) v[j] = maps[j][i];
    // Insertion sort of ≤ 5 values beats a generic sort by far.
    for (let a = 1; a < k; a++) {
      const x = v[a];
      let b = a - 1;
      while (b >= 0 && v[b] > x) {
        v[b + 1] = v[b];
        b--;
      }
      v[b + 1] = x;
    }
    out[i] = v[k >> 1];
  }
  return out;
}

export function median(xs: ArrayLike<number>): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
