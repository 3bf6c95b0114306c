// Size bounds for masks: a plate or face box larger than such an object can be at its place in the
// frame is a false detection (a building, a shop sign, a texture), and masking it only spoils the
// picture. The plausible size at a row comes from the objects the detector found there: a road camera
// sees perspective, so object width grows roughly linearly with the row of its bottom edge.
import type { Box } from '../core/types.js';

/** Expected object width (px) at an image row, fitted on detected boxes; null when there are none. */
export type WidthAtRow = (y: number) => number | null;

/**
 * Least-squares fit of width against bottom row. With fewer than three boxes, or a fit that does not
 * grow downwards (no perspective, e.g. an overhead view), the largest width seen is used everywhere.
 */
export function widthAtRow(boxes: readonly Box[]): WidthAtRow {
  if (boxes.length === 0) return () => null;
  const maxW = Math.max(...boxes.map((b) => b.w));
  if (boxes.length < 3) return () => maxW;
  const n = boxes.length;
  let sy = 0;
  let sw = 0;
  let syy = 0;
  let syw = 0;
  for (const b of boxes) {
    const y = b.y + b.h;
    sy += y;
    sw += b.w;
    syy += y * y;
    syw += y * b.w;
  }
  const den = n * syy - sy * sy;
  const slope = den > 0 ? (n * syw - sy * sw) / den : 0;
  if (!(slope > 0)) return () => maxW;
  const icpt = (sw - slope * sy) / n;
  // never below the smallest box seen (the fit can go to zero above the top vehicle)
  const minW = Math.min(...boxes.map((b) => b.w));
  return (y) => Math.max(minW, icpt + slope * y);
}

export interface MaskBounds {
  /** A plate is at most this share of its vehicle's width... */
  plateToVehicle: number;
  /** ...a face at most this share of its person's width... */
  faceToPerson: number;
  /** ...times this slack for detector box noise and vehicles in the fit being far from the row. */
  slack: number;
  /** Without any object to relate to: largest box as a share of the image's shorter side (close-ups). */
  aloneShare: number;
}

export const DEFAULT_BOUNDS: MaskBounds = { plateToVehicle: 0.6, faceToPerson: 0.9, slack: 1.6, aloneShare: 0.6 };

/** Largest plausible width of a plate whose bottom is at the row of its vehicle's bottom (about). */
function maxWidth(at: WidthAtRow, b: Box, share: number, image: { width: number; height: number }, o: MaskBounds): number {
  const expected = at(Math.min(image.height, b.y + b.h));
  if (expected === null) return o.aloneShare * Math.min(image.width, image.height) * 1.5;
  return Math.max(12, expected * share * o.slack);
}

export function plausiblePlate(b: Box, vehicles: WidthAtRow, image: { width: number; height: number }, o: MaskBounds = DEFAULT_BOUNDS): boolean {
  return b.w <= maxWidth(vehicles, b, o.plateToVehicle, image, o) && b.h <= b.w;
}

export function plausibleFace(b: Box, persons: WidthAtRow, image: { width: number; height: number }, o: MaskBounds = DEFAULT_BOUNDS): boolean {
  if (b.w > o.aloneShare * Math.max(image.width, image.height)) return false;
  // Without persons a face may be a close-up; with them, a face is not much wider than a person
  // standing there (the fit is on feet rows: a person is about seven face heights tall).
  const expected = persons(Math.min(image.height, b.y + 7 * b.h));
  return expected === null || b.w <= Math.max(16, expected * o.faceToPerson * o.slack);
}
