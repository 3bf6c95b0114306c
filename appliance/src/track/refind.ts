// Re-finding a vehicle the detector lost for a while (heavy spray on a wet motorway hides a car for
// 1–3 s at a time). Box overlap cannot do it: by the time the car is boxed again it has moved on by
// more than its own size, and the Kalman prediction has drifted (a velocity from the last jittery
// boxes, a box size extrapolated with no evidence). So a lost track that has travelled may take a box
// that lies where its own recent motion would have brought it: measured from its last box, along its
// own direction of travel, in units of its own size, and never behind it (the vehicle following it in
// the lane is behind: taking that one would count a vehicle backwards).
import type { Box, Point } from '../core/types.js';
import { anchorOf } from '../core/box.js';

export interface RefindOptions {
  /** Progress along the track's direction since its last box, at least this fraction of speed × time lost... */
  minAlong: number;
  /** ...and at most this multiple of it plus `alongSlack` box heights (a car slows down as it recedes). */
  maxAlong: number;
  alongSlack: number;
  /** Sideways offset from the track's line of travel: at most this many box widths (same lane). */
  lateral: number;
  /** Height of the box over the track's last one: within [1/sizeRatio, sizeRatio] (spray inflates boxes). */
  sizeRatio: number;
  /** Recent speed at least this many box heights per second: a standing track has no direction to follow. */
  minSpeed: number;
  /** Travelled over its life (first to last box) at least this many box heights... */
  minTravel: number;
  /** ...in the direction of its recent motion (cosine of the angle between them at least this). */
  minCos: number;
  /**
   * A track whose last box lay at least this share inside a box another track took in the same frame
   * is not re-found: it was a second box on one vehicle (a tall van boxed whole and by its roof), and
   * that vehicle is still tracked by the other; re-found, it would count the vehicle twice.
   */
  maxCovered: number;
  /** Lost for at most this long (s): further on, where it is becomes a guess. */
  maxLostS: number;
  /** Recent motion: over the matched boxes of the last this many ms. */
  trailMs: number;
}

/** Tuned on the hand-counted dev set (bench/counts.ts) at 5 and 10 fps. */
export const DEFAULT_REFIND: RefindOptions = {
  minAlong: 0.3,
  maxAlong: 1.5,
  alongSlack: 0.5,
  lateral: 0.5,
  sizeRatio: 1.8,
  minSpeed: 0.3,
  minTravel: 1,
  minCos: 0.8,
  maxCovered: 0.7,
  maxLostS: 3,
  trailMs: 1000,
};

/** Where a matched box stood (its ground point: bottom centre) and when. */
export interface TrailPoint {
  ms: number;
  x: number;
  y: number;
}

/** Adds a matched box to the trail, keeping at least two points and none older than `trailMs` before it. */
export function extendTrail(trail: TrailPoint[], ms: number, b: Box, trailMs: number): void {
  trail.push({ ms, ...anchorOf(b) });
  while (trail.length > 2 && ms - (trail[0]?.ms ?? ms) > trailMs) trail.shift();
}

/** Mean velocity (px/s) over the trail; zero for a single point. */
export function trailVelocity(trail: readonly TrailPoint[]): Point {
  const a = trail[0];
  const b = trail[trail.length - 1];
  if (!a || !b || b.ms <= a.ms) return { x: 0, y: 0 };
  const dt = (b.ms - a.ms) / 1000;
  return { x: (b.x - a.x) / dt, y: (b.y - a.y) / dt };
}

/** What re-finding knows about a lost track. */
export interface LostTrack {
  /** ground point of its first box */
  first: Point;
  /** its last matched box */
  last: Box;
  /** recent velocity of its ground point, px/s */
  velocity: Point;
  /** seconds since its last matched box */
  lostS: number;
}

/**
 * Cost in [0, 1) of handing box `d` to the lost track, growing with the distance from where its
 * motion predicts it; 1 when `d` cannot be that vehicle.
 */
export function refindCost(t: LostTrack, d: Box, o: RefindOptions): number {
  const h = t.last.h;
  const speed = Math.hypot(t.velocity.x, t.velocity.y);
  if (h <= 0 || t.lostS > o.maxLostS || speed < o.minSpeed * h) return 1;
  const ratio = d.h / h;
  if (ratio > o.sizeRatio || ratio < 1 / o.sizeRatio) return 1;
  const ux = t.velocity.x / speed;
  const uy = t.velocity.y / speed;
  const last = anchorOf(t.last);
  const travelX = last.x - t.first.x;
  const travelY = last.y - t.first.y;
  const travel = Math.hypot(travelX, travelY);
  if (travel < o.minTravel * h || (travelX * ux + travelY * uy) / travel < o.minCos) return 1;
  const p = anchorOf(d);
  const along = (p.x - last.x) * ux + (p.y - last.y) * uy;
  const lateral = Math.abs((p.x - last.x) * uy - (p.y - last.y) * ux);
  const expected = speed * t.lostS;
  const width = Math.min(t.last.w, d.w);
  if (along < o.minAlong * expected || along > o.maxAlong * expected + o.alongSlack * h) return 1;
  if (lateral > o.lateral * width) return 1;
  return Math.min(0.99, (0.5 * Math.abs(along - expected)) / (expected + h) + (0.49 * lateral) / (o.lateral * width));
}
