// Whole-frame plate pass that needs no model and no vehicle: a plate is a small, wide patch dense with
// vertical strokes (characters) between quiet rows. Classic plate localisation: horizontal gradient,
// stroke density along rows, connected patches kept when plate-shaped and plate-sized. It runs
// at native resolution for plates of about 15-80 px (larger ones are the text detector's). It costs tens
// of milliseconds per 720p frame in plain JS, where the text detector (PP-OCRv4) would need the whole
// frame upscaled 2-3x to see a 20 px plate (seconds). It over-finds (grilles, signs, window rows); each
// find is plate-sized and then size-bounded, so the masked share stays small.
import type { Box, RgbImage } from '../core/types.js';
import type { ScoredBox } from './geometry.js';

export interface PlateScanOptions {
  /**
   * Gray-level steps across one pixel pair that count as a stroke edge, one scan each: a low one for
   * small, soft plates (overhead, far), a high one so that a crisp plate is not merged into its grille.
   */
  edgeThresholds: number[];
  /** Half-width of the row window in which edges are counted (pixels of the level). */
  window: number;
  /** Edges needed in the window (2 * window + 1 px) for a pixel to be "text-like". */
  minEdges: number;
  /** Patch size at each level, in pixels of that level. */
  minW: number;
  maxW: number;
  minH: number;
  maxH: number;
  minAspect: number;
  maxAspect: number;
  /** Share of the patch's bounding box that is text-like. */
  minFill: number;
  /** Pyramid levels (0 = native, 1 = half, ...). */
  levels: number;
  /** Stroke edges a row of the patch must cross at least (characters, not one lane dash or a lamp). */
  minRuns: number;
  /** Mean green excess (G minus the larger of R and B) above which a patch is foliage, not a plate. */
  maxGreen: number;
}

export const DEFAULT_PLATE_SCAN: PlateScanOptions = { edgeThresholds: [14], window: 4, minEdges: 4, minW: 12, maxW: 56, minH: 3, maxH: 22, minAspect: 1.4, maxAspect: 9, minFill: 0.35, levels: 1, minRuns: 3, maxGreen: 6 };

interface Gray {
  w: number;
  h: number;
  g: Uint8Array;
}

/** Most edge runs (rising into an edge) on one row of the patch, at level resolution. */
function maxRuns(p: Gray, b: Box, threshold: number): number {
  // x runs 1..p.w−2 on a row of the level: both neighbours are inside p.g.
  let best = 0;
  for (let y = b.y; y < b.y + b.h; y++) {
    let runs = 0;
    let inEdge = false;
    const row = y * p.w;
    for (let x = Math.max(1, b.x); x < Math.min(p.w - 1, b.x + b.w); x++) {
      const e = Math.abs(p.g[row + x + 1]! - p.g[row + x - 1]!) >= threshold;
      if (e && !inEdge) runs++;
      inEdge = e;
    }
    if (runs > best) best = runs;
  }
  return best;
}

/** Mean of G - max(R, B) over a box (image pixels): positive on leaves and grass, ~0 on plates. */
function greenExcess(image: RgbImage, b: Box): number {
  // x and y are clamped to the image, whose data holds width×height×3 bytes.
  let sum = 0;
  let n = 0;
  const x2 = Math.min(image.width, b.x + b.w);
  const y2 = Math.min(image.height, b.y + b.h);
  for (let y = Math.max(0, b.y); y < y2; y++)
    for (let x = Math.max(0, b.x), i = (y * image.width + x) * 3; x < x2; x++, i += 3) {
      sum += image.data[i + 1]! - Math.max(image.data[i]!, image.data[i + 2]!);
      n++;
    }
  return n ? sum / n : 0;
}

function grayOf(image: RgbImage): Gray {
  const { width: w, height: h, data } = image;
  const g = new Uint8Array(w * h);
  // s walks the w×h×3 bytes of data pixel by pixel.
  for (let i = 0, s = 0; i < g.length; i++, s += 3) g[i] = (data[s]! * 77 + data[s + 1]! * 150 + data[s + 2]! * 29) >> 8;
  return { w, h, g };
}

function half(p: Gray): Gray {
  const w = p.w >> 1;
  const h = p.h >> 1;
  const g = new Uint8Array(w * h);
  // 2x + 1 < p.w and 2y + 1 < p.h: the 2×2 block is inside p.g.
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * p.w;
    const r1 = r0 + p.w;
    for (let x = 0; x < w; x++) g[y * w + x] = (p.g[r0 + 2 * x]! + p.g[r0 + 2 * x + 1]! + p.g[r1 + 2 * x]! + p.g[r1 + 2 * x + 1]! + 2) >> 2;
  }
  return { w, h, g };
}

/** Text-like mask: pixels with at least minEdges stroke edges within ±window on their row. */
function textLike(p: Gray, threshold: number, o: PlateScanOptions): Uint8Array {
  const { w, h, g } = p;
  const out = new Uint8Array(w * h);
  const edge = new Uint8Array(w);
  // Row reads stay in 0..w−1 (x ± 1 for 1 ≤ x ≤ w−2; add < w and drop ≥ 0 are checked).
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 1; x < w - 1; x++) edge[x] = Math.abs(g[row + x + 1]! - g[row + x - 1]!) >= threshold ? 1 : 0;
    // sliding count of edges in [x - window, x + window]
    let count = 0;
    for (let x = 0; x <= Math.min(o.window, w - 1); x++) count += edge[x]!;
    for (let x = 0; x < w; x++) {
      if (count >= o.minEdges) out[row + x] = 1;
      const add = x + o.window + 1;
      const drop = x - o.window;
      if (add < w) count += edge[add]!;
      if (drop >= 0) count -= edge[drop]!;
    }
  }
  return out;
}

/** Plate-shaped connected patches of the text-like mask, in pixels of the level. */
function patches(mask: Uint8Array, w: number, h: number, o: PlateScanOptions): ScoredBox[] {
  const seen = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  // Every pixel is pushed once (seen) onto a stack of w×h: sp stays in range.
  const out: ScoredBox[] = [];
  for (let start = 0; start < w * h; start++) {
    if (!mask[start] || seen[start]) continue;
    let sp = 0;
    stack[sp++] = start;
    seen[start] = 1;
    let n = 0;
    let x1 = w;
    let y1 = h;
    let x2 = -1;
    let y2 = -1;
    let tooBig = false;
    while (sp > 0) {
      const i = stack[--sp]!;
      const x = i % w;
      const y = (i - x) / w;
      n++;
      if (x < x1) x1 = x;
      if (x > x2) x2 = x;
      if (y < y1) y1 = y;
      if (y > y2) y2 = y;
      if (x2 - x1 > o.maxW * 2 || y2 - y1 > o.maxH * 2) tooBig = true; // keep flooding (to mark it seen) but it is texture
      if (x > 0 && mask[i - 1] && !seen[i - 1]) {
        seen[i - 1] = 1;
        stack[sp++] = i - 1;
      }
      if (x < w - 1 && mask[i + 1] && !seen[i + 1]) {
        seen[i + 1] = 1;
        stack[sp++] = i + 1;
      }
      if (y > 0 && mask[i - w] && !seen[i - w]) {
        seen[i - w] = 1;
        stack[sp++] = i - w;
      }
      if (y < h - 1 && mask[i + w] && !seen[i + w]) {
        seen[i + w] = 1;
        stack[sp++] = i + w;
      }
    }
    if (tooBig) continue;
    const bw = x2 - x1 + 1;
    const bh = y2 - y1 + 1;
    const fill = n / (bw * bh);
    if (bw < o.minW || bw > o.maxW || bh < o.minH || bh > o.maxH) continue;
    const aspect = bw / bh;
    if (aspect < o.minAspect || aspect > o.maxAspect || fill < o.minFill) continue;
    out.push({ box: { x: x1, y: y1, w: bw, h: bh }, score: fill });
  }
  return out;
}

/** Plate candidates over the whole frame (boxes around the stroke patch, in image pixels, unpadded). */
export function scanPlates(image: RgbImage, o: PlateScanOptions = DEFAULT_PLATE_SCAN): ScoredBox[] {
  const found: ScoredBox[] = [];
  let level = grayOf(image);
  for (let l = 0, f = 1; l < o.levels && level.w >= 2 * o.minW && level.h >= 2 * o.minH; l++, f *= 2) {
    for (const threshold of o.edgeThresholds)
      for (const p of patches(textLike(level, threshold, o), level.w, level.h, o)) {
        if (maxRuns(level, p.box, threshold) < o.minRuns) continue;
        const box = { x: p.box.x * f, y: p.box.y * f, w: p.box.w * f, h: p.box.h * f };
        if (greenExcess(image, box) > o.maxGreen) continue;
        found.push({ score: p.score, box });
      }
    if (l + 1 < o.levels) level = half(level);
  }
  return found;
}

/** A stroke patch is the characters' band: grow it to the whole plate (border, frame, second line). */
export function plateFromPatch(b: Box): Box {
  const padX = Math.max(0.2 * b.w, 0.6 * b.h, 2);
  const padY = Math.max(0.7 * b.h, 2);
  return { x: b.x - padX, y: b.y - padY, w: b.w + 2 * padX, h: b.h + 2 * padY };
}
