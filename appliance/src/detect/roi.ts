// Detection on a region of interest: the detector looks only at the part of the picture around the
// camera's lines, zones and lanes, so at the same input size (same CPU per frame) far vehicles there
// get more input pixels. Objects wholly outside the region are not seen at all.
import type { Box, RgbImage, RoiMode } from '../core/types.js';

interface RelPoint {
  x: number;
  y: number;
}
/** A rectangle in relative frame coordinates (0..1). */
export interface RelRect {
  x: number;
  y: number;
  w: number;
  h: number;
}
/** What a camera draws on the picture (the config's lines, zones, stop lines and lane polygons). */
export interface DrawnGeometry {
  lines?: ReadonlyArray<{ from: RelPoint; to: RelPoint }>;
  zones?: ReadonlyArray<{ polygon: readonly RelPoint[] }>;
  stopLines?: ReadonlyArray<{ from: RelPoint; to: RelPoint }>;
  lanes?: ReadonlyArray<{ polygon?: readonly RelPoint[] }>;
}
/** 'full': the whole frame; 'auto': around the drawn geometry; a rectangle: that part (relative). */
export type RoiSetting = RoiMode | RelRect;

/**
 * Margin around the drawn geometry, as a share of the frame per axis: a count needs the vehicle tracked on
 * both sides of a line (at 0.05 a dev-set line near the crop's edge counted 1 of 41 vehicles).
 */
export const AUTO_ROI_MARGIN = 0.1;
/** A region covering at least this share of the frame is not worth a crop. */
const FULL_ENOUGH = 0.9;

/** Bounding box (relative) of everything drawn; null when nothing is. */
export function drawnBounds(g: DrawnGeometry): RelRect | null {
  const pts: RelPoint[] = [
    ...(g.lines ?? []).flatMap((l) => [l.from, l.to]),
    ...(g.stopLines ?? []).flatMap((l) => [l.from, l.to]),
    ...(g.zones ?? []).flatMap((z) => z.polygon),
    ...(g.lanes ?? []).flatMap((l) => l.polygon ?? []),
  ];
  if (pts.length === 0) return null;
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const x0 = Math.min(...xs);
  const y0 = Math.min(...ys);
  return { x: x0, y: y0, w: Math.max(...xs) - x0, h: Math.max(...ys) - y0 };
}

/**
 * The pixels the detector should look at for a camera of width × height, or undefined for the
 * whole frame (setting 'full', nothing drawn, or a region that is nearly the whole frame anyway).
 */
export function roiPixels(setting: RoiSetting, g: DrawnGeometry, width: number, height: number, margin = AUTO_ROI_MARGIN): Box | undefined {
  if (setting === 'full') return undefined;
  let rel: RelRect;
  if (setting === 'auto') {
    const b = drawnBounds(g);
    if (!b) return undefined;
    rel = { x: b.x - margin, y: b.y - margin, w: b.w + 2 * margin, h: b.h + 2 * margin };
  } else rel = setting;
  // Outward to whole pixels; the epsilon keeps 0.3 − 0.1 (0.19999…) on pixel 128 of 640.
  const x0 = Math.max(0, Math.floor(rel.x * width + 1e-6));
  const y0 = Math.max(0, Math.floor(rel.y * height + 1e-6));
  const x1 = Math.min(width, Math.ceil((rel.x + rel.w) * width - 1e-6));
  const y1 = Math.min(height, Math.ceil((rel.y + rel.h) * height - 1e-6));
  if (x1 - x0 < 1 || y1 - y0 < 1) return undefined;
  if ((x1 - x0) * (y1 - y0) >= FULL_ENOUGH * width * height) return undefined;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/**
 * The region grown (about its centre, kept inside the image) to the model's input aspect, so the
 * crop is scaled alike on both axes; where the image is too narrow or short for that, the image's extent.
 */
export function fitAspect(region: Box, width: number, height: number, aspect: number): Box {
  let w = region.w;
  let h = region.h;
  if (w / h < aspect) w = Math.min(width, h * aspect);
  else h = Math.min(height, w / aspect);
  w = Math.round(w);
  h = Math.round(h);
  const cx = region.x + region.w / 2;
  const cy = region.y + region.h / 2;
  const x = Math.round(Math.min(width - w, Math.max(0, cx - w / 2)));
  const y = Math.round(Math.min(height - h, Math.max(0, cy - h / 2)));
  return { x, y, w, h };
}

/** The frame with the detector's region attached (no pixel copy); the frame itself when there is none. */
export function withRoi<T extends RgbImage>(frame: T, roi: Box | undefined): T {
  return roi ? { ...frame, roi } : frame;
}

/** A camera's frame as its detector should see it: with the region its config asks for, if any. */
export function cameraView<T extends RgbImage>(camera: DrawnGeometry & { detector?: { roi?: RoiSetting } }, frame: T): T {
  return withRoi(frame, roiPixels(camera.detector?.roi ?? 'full', camera, frame.width, frame.height));
}
