// Always-on geometric masks, independent of any model: the lower-middle band of every vehicle (where a
// plate sits when seen from the front or back) and the head region of every person. A 5 px face or
// a plate the text detector missed is still covered.
import type { Box, Detection, ObjectClass } from '../core/types.js';

/** Classes that carry a plate (bicycles do not). */
export const PLATE_CLASSES: ReadonlySet<ObjectClass> = new Set(['car', 'truck', 'bus', 'motorcycle']);

export interface FallbackOptions {
  /** Vehicle band: horizontal share kept around the centre, and top of the band as a share of height. */
  vehicleBandWidth: number;
  vehicleBandTop: number;
  /**
   * Vehicles narrower than this (px) get no band: their plate (about a third of the width, under
   * 10 px) cannot be read, and on a busy road the bands would cover most of the picture.
   */
  minBandVehicleWidth: number;
}

export const DEFAULT_FALLBACK: FallbackOptions = { vehicleBandWidth: 0.8, vehicleBandTop: 0.5, minBandVehicleWidth: 30 };

export function vehicleBand(v: Box, o: FallbackOptions = DEFAULT_FALLBACK): Box {
  const w = v.w * o.vehicleBandWidth;
  return { x: v.x + (v.w - w) / 2, y: v.y + v.h * o.vehicleBandTop, w, h: v.h * (1 - o.vehicleBandTop) + 0.05 * v.h };
}

/**
 * Head region of a person box, placed from the box's shape. Upright (tall box, a road-side view): the
 * top of the box, deeper for wider boxes, with a margin on each side. Seen from above (a box about as
 * wide as tall): the head is near the middle of the box, not at its top. In between (seated, leaning,
 * cut by the frame edge): the upper part, deep enough for either.
 */
export function headRegion(p: Box): Box {
  const aspect = p.h / p.w;
  if (aspect >= 1.6) {
    const depth = Math.min(0.5 * p.h, Math.max(0.22 * p.h, 0.6 * p.w));
    return { x: p.x - 0.1 * p.w, y: p.y - 0.05 * p.h, w: p.w * 1.2, h: depth + 0.05 * p.h };
  }
  if (aspect < 1.15) {
    const side = 0.6 * Math.min(p.w, p.h);
    return { x: p.x + (p.w - side) / 2, y: p.y + (p.h - side) / 2, w: side, h: side };
  }
  return { x: p.x - 0.05 * p.w, y: p.y - 0.05 * p.h, w: p.w * 1.1, h: 0.65 * p.h };
}

export function fallbackRegions(objects: readonly Detection[], o: FallbackOptions = DEFAULT_FALLBACK): Box[] {
  const out: Box[] = [];
  for (const d of objects) {
    if (d.cls === 'person') out.push(headRegion(d.box));
    else if (PLATE_CLASSES.has(d.cls) && d.box.w >= o.minBandVehicleWidth) out.push(vehicleBand(d.box, o));
  }
  return out;
}
