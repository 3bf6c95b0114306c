// A low-light / low-contrast step before the detector, decided per frame from cheap luma statistics
// (a subsample of the region the detector looks at), so day frames reach the model untouched.
// Tone curves (gamma, stretch) fold into the tensor conversion as 256-entry tables (no extra pass);
// CLAHE is one more libvips operation in the sharp pipeline that resizes (after the resize, on the
// model's input, off the event loop).
import type { Box, EnhanceMode, RgbImage } from '../core/types.js';

/** What can be done to a frame: CLAHE (local histogram equalisation), a brightening gamma, a global contrast stretch. */
export const ENHANCE_OPS = ['clahe', 'gamma', 'stretch'] as const;
export type EnhanceOp = (typeof ENHANCE_OPS)[number];
/** The config's 'off' / 'auto', or one operation on every frame (benchmarks). */
export type EnhancePolicy = EnhanceMode | EnhanceOp;

export interface LumaStats {
  /** 2nd, 50th and 98th percentiles of luma (0..255) */
  p2: number;
  median: number;
  p98: number;
}

/** Every STEP-th pixel of every STEP-th row: ~26k samples on a 864x480 frame, well under a millisecond. */
const STEP = 4;

/** Luma percentiles of the region (BT.601 weights in integers), from a subsample. */
export function lumaStats(image: RgbImage, region: Box = { x: 0, y: 0, w: image.width, h: image.height }): LumaStats {
  const hist = new Uint32Array(256);
  const d = image.data;
  let n = 0;
  for (let y = region.y; y < region.y + region.h; y += STEP) {
    let i = (y * image.width + region.x) * 3;
    for (let x = 0; x < region.w; x += STEP, i += 3 * STEP) {
      hist[(77 * d[i]! + 150 * d[i + 1]! + 29 * d[i + 2]!) >> 8]!++;
      n++;
    }
  }
  const at = (q: number): number => {
    const k = Math.max(1, Math.ceil(q * n));
    let c = 0;
    for (let v = 0; v < 256; v++) {
      c += hist[v]!;
      if (c >= k) return v;
    }
    return 255;
  };
  return { p2: at(0.02), median: at(0.5), p98: at(0.98) };
}

/**
 * A frame is dark when half its pixels are below this luma: on the dev set sf-freeway-night (unlit
 * carriageway, headlights) has medians of 8–15; every day, dusk and rain clip is above 80.
 */
export const DARK_MEDIAN = 40;
/**
 * A frame is hazy when even its darkest 2 % are above HAZE_P2 and its median above HAZE_MEDIAN: fog,
 * rain and spray lift the blacks towards a bright airlight (uk-motorway-rain: p2 75–87, median
 * 151–159). The dev set's day and dusk clips keep real shadows (p2 ≤ 50); the median condition keeps
 * overcast grey asphalt out (intel parking aisle: p2 up to 94 at a median of 51–115).
 */
export const HAZE_P2 = 64;
export const HAZE_MEDIAN = 130;

/** 'auto': what to do to a frame with these statistics; null leaves it as it is. */
export function autoEnhancement(s: LumaStats): EnhanceOp | null {
  if (s.median < DARK_MEDIAN) return 'gamma';
  if (s.p2 > HAZE_P2 && s.median > HAZE_MEDIAN) return 'stretch';
  return null;
}

/** CLAHE window on the model's input (pixels; about an 8 × 8 grid on 864x480) and its contrast limit. */
export const CLAHE = { width: 108, height: 60, maxSlope: 3 } as const;
/** Brightening exponent for dark frames: out = 255 · (in / 255)^GAMMA. */
export const GAMMA = 0.5;
/** Its tone curve, the same for every dark frame. */
const GAMMA_CURVE = Uint8Array.from({ length: 256 }, (_, v) => Math.round(255 * Math.pow(v / 255, GAMMA)));

/** The operation for one frame, and its tone curve as a 256-entry table where it is one (gamma, stretch). */
export interface EnhancePlan {
  op: EnhanceOp;
  curve: Uint8Array | null;
}

/** What to do to this frame (its region) under the policy; null: pass it through untouched. */
export function planEnhancement(policy: EnhancePolicy | undefined, image: RgbImage, region: Box): EnhancePlan | null {
  if (policy === undefined || policy === 'off') return null;
  let stats: LumaStats | null = null;
  let op: EnhanceOp | null = policy === 'auto' ? null : policy;
  if (policy === 'auto') {
    stats = lumaStats(image, region);
    op = autoEnhancement(stats);
  }
  if (op === null) return null;
  if (op === 'gamma') return { op, curve: GAMMA_CURVE };
  if (op === 'stretch') {
    // The 2nd..98th luma percentiles to the full range (haze and spray lift the blacks and dim the whites).
    const { p2, p98 } = stats ?? lumaStats(image, region);
    const span = Math.max(16, p98 - p2);
    return { op, curve: Uint8Array.from({ length: 256 }, (_, v) => Math.min(255, Math.max(0, Math.round(((v - p2) * 255) / span)))) };
  }
  return { op, curve: null };
}
