// What makes a drawn line or zone usable, written once: the analytics refuse to build what these
// reject, and config validation reports the same problems by field before anything is applied.
import type { Point } from './types.js';

export interface GeometryProblem {
  /** Field under the line or zone that is wrong ('' = the shape itself). */
  field: string;
  message: string;
}

interface LineShape {
  id: string;
  from: Point;
  to: Point;
  direction?: Point;
}

interface ZoneShapeInput {
  id: string;
  polygon: Point[];
  laneDirection?: Point;
}

/** Shortest counting line, in relative coordinates: shorter ones cannot tell a crossing from jitter. */
export const MIN_LINE_LENGTH = 0.01;

export function lineProblem(l: LineShape): GeometryProblem | null {
  const dx = l.to.x - l.from.x;
  const dy = l.to.y - l.from.y;
  const len = Math.hypot(dx, dy);
  if (len < MIN_LINE_LENGTH) return { field: '', message: `line is too short (from and to closer than ${MIN_LINE_LENGTH})` };
  if (l.direction) {
    if (Math.hypot(l.direction.x, l.direction.y) === 0) return { field: 'direction', message: 'direction must not be the zero vector' };
    // Forward is the side the direction points to; a direction along the line names no side.
    const s = (l.direction.x * dy) / len - (l.direction.y * dx) / len;
    if (Math.abs(s) < 1e-9) return { field: 'direction', message: `counting line '${l.id}': direction is parallel to the line` };
  }
  return null;
}

export function polygonArea(p: readonly Point[]): number {
  let a = 0;
  for (let i = 0; i < p.length; i++) {
    const q = p[(i + 1) % p.length]!;
    const r = p[i]!;
    a += r.x * q.y - q.x * r.y;
  }
  return a / 2;
}

export function zoneProblem(z: ZoneShapeInput): GeometryProblem | null {
  if (z.polygon.length < 3) return { field: 'polygon', message: `zone '${z.id}': a polygon needs at least 3 points` };
  if (Math.abs(polygonArea(z.polygon)) < 1e-4) return { field: 'polygon', message: 'polygon has no area' };
  const ld = z.laneDirection;
  if (ld && Math.hypot(ld.x, ld.y) < 1e-9) return { field: 'laneDirection', message: `zone '${z.id}': laneDirection must not be zero` };
  return null;
}

interface LaneShapeInput {
  id: string;
  polygon?: Point[];
  divider?: { lineId: string; from: number; to: number };
  direction: Point;
  loop?: { polygon: Point[] };
}

/** A lane is a polygon or a stretch of an existing counting line, with a direction and a usable loop. */
export function laneProblem(l: LaneShapeInput, lineIds: readonly string[]): GeometryProblem | null {
  if ((l.polygon === undefined) === (l.divider === undefined)) return { field: '', message: `lane '${l.id}': give either polygon or divider` };
  if (l.polygon && Math.abs(polygonArea(l.polygon)) < 1e-4) return { field: 'polygon', message: 'polygon has no area' };
  if (l.divider && !lineIds.includes(l.divider.lineId)) return { field: 'divider/lineId', message: `lane '${l.id}': no counting line '${l.divider.lineId}'` };
  if (l.divider && Math.abs(l.divider.to - l.divider.from) < 0.01) return { field: 'divider', message: `lane '${l.id}': from and to are the same place` };
  if (Math.hypot(l.direction.x, l.direction.y) < 1e-9) return { field: 'direction', message: `lane '${l.id}': direction must not be zero` };
  if (l.loop && Math.abs(polygonArea(l.loop.polygon)) < 1e-5) return { field: 'loop/polygon', message: `lane '${l.id}': the loop has no area` };
  return null;
}
