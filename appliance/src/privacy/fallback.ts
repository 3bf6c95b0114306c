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
}

export const DEFAULT_FALLBACK: FallbackOptions = { vehicleBandWidth: 0.8, vehicleBandTop: 0.5 };

export function vehicleBand(v: Box, o: FallbackOptions = DEFAULT_FALLBACK): Box {
  const w = v.w * o.vehicleBandWidth;
  return { x: v.x + (v.w - w) / 2, y: v.y + v.h * o.vehicleBandTop, w, h: v.h * (1 - o.vehicleBandTop) + 0.05 * v.h };
}

/**
 * Head region of a person box: the top of the box, deeper for wide boxes (a seated or cropped person
 * shows the head at a larger share of the box), with a margin on each side.
 */
export function headRegion(p: Box): Box {
  const depth = Math.min(0.5 * p.h, Math.max(0.22 * p.h, 0.6 * p.w));
  return { x: p.x - 0.1 * p.w, y: p.y - 0.05 * p.h, w: p.w * 1.2, h: depth + 0.05 * p.h };
}

export function fallbackRegions(objects: readonly Detection[], o: FallbackOptions = DEFAULT_FALLBACK): Box[] {
  const out: Box[] = [];
  for (const d of objects) {
    if (d.cls === 'person') out.push(headRegion(d.box));
    else if (PLATE_CLASSES.has(d.cls)) out.push(vehicleBand(d.box, o));
  }
  return out;
}
