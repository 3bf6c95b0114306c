// What the analytics stages see of a track in one frame: the tracker's output plus the geometry the
// façade computes once (anchor, ground position, smoothed speed, zones containing the anchor).
import type { Box, ObjectClass, Point, TrackStatus } from '../core/types.js';

/** Maps a point in pixels of the analysed frame onto the ground plane (metres). */
export interface GroundMapper {
  toGround(px: Point): Point | null;
}

export interface TrackView {
  id: number;
  cls: ObjectClass;
  status: TrackStatus;
  isVehicle: boolean;
  /** Bottom-centre of the box, pixels of the analysed frame. */
  anchorPx: Point;
  /** The track's box, pixels of the analysed frame (its size is the yardstick of distances without calibration). */
  boxPx: Box;
  /** Frame time (ms) the tracker first saw it. */
  firstSeenMs: number;
  /** Same point in relative frame coordinates (0..1). */
  anchorRel: Point;
  /** Same point on the ground plane (m), null without calibration. */
  ground: Point | null;
  /** Tracker velocity of the box centre, relative units per second. */
  velocityRel: Point;
  /** The box in relative frame coordinates (0..1). */
  boxRel: Box;
  /** Smoothed anchor speed over the speed window; null until the window is long enough. */
  speedPxPerSec: number | null;
  speedKmh: number | null;
  /** Ids of the zones whose polygon contains the anchor in this frame. */
  zones: string[];
}

export interface FrameContext {
  cameraId: string;
  tMs: number;
  width: number;
  height: number;
  /** Maps relative frame coordinates onto the ground plane (m); null without calibration. */
  groundOfRel: ((rel: Point) => Point | null) | null;
  /** Tracks present in this frame (confirmed and lost; tentative ones are dropped by the façade). */
  tracks: TrackView[];
}
