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
  /** Largest face box (YuNet's, before padding) as a share of the image's longer side: a close-up. */
  faceAloneShare: number;
}

export const DEFAULT_BOUNDS: MaskBounds = { plateToVehicle: 0.6, faceToPerson: 0.9, slack: 1.6, faceAloneShare: 0.9 };

/** Objects around a mask box: the fit over all of them, and the boxes themselves. */
export interface Context {
  at: WidthAtRow;
  boxes: readonly Box[];
}

export function contextOf(boxes: readonly Box[]): Context {
  return { at: widthAtRow(boxes), boxes };
}

/** Widest object box holding the centre of b (its own vehicle or person), if any. */
function holder(b: Box, boxes: readonly Box[]): number | null {
  const cx = b.x + b.w / 2;
  const cy = b.y + b.h / 2;
  let w: number | null = null;
  for (const o of boxes) if (cx >= o.x && cx <= o.x + o.w && cy >= o.y && cy <= o.y + o.h) w = Math.max(w ?? 0, o.w);
  return w;
}

/**
 * A plate is at most a share of its vehicle: the vehicle holding it, or else the width vehicles have at
 * its row. Without any vehicle (a close-up, or a missed car) only a plate-shaped box narrower than the
 * picture passes.
 */
export function plausiblePlate(b: Box, vehicles: Context, image: { width: number; height: number }, o: MaskBounds = DEFAULT_BOUNDS): boolean {
  if (b.h > b.w) return false;
  const expected = holder(b, vehicles.boxes) ?? vehicles.at(Math.min(image.height, b.y + b.h));
  if (expected === null) return b.w <= 0.95 * image.width;
  return b.w <= Math.max(12, expected * o.plateToVehicle * o.slack);
}

export function plausibleFace(b: Box, persons: Context, image: { width: number; height: number }, o: MaskBounds = DEFAULT_BOUNDS): boolean {
  if (b.w > o.faceAloneShare * Math.max(image.width, image.height)) return false;
  // Without persons a face may be a close-up; with them, a face is not much wider than its person, or
  // than a person standing there (the fit is on feet rows: a person is about seven face heights tall).
  const expected = holder(b, persons.boxes) ?? persons.at(Math.min(image.height, b.y + 7 * b.h));
  return expected === null || b.w <= Math.max(16, expected * o.faceToPerson * o.slack);
}
