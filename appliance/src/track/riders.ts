// Riders: a person on a bicycle or motorcycle is one road user of the two-wheeler's class, counted
// once as that vehicle and never as a pedestrian. Detectors box the rider and the two-wheeler apart
// (or, for small ones, only the rider), so this fuses them before tracking, and names a fast
// 'person' track a two-wheeler when no vehicle box was ever seen under it.
import type { Box, Detection, ObjectClass } from '../core/types.js';
import { TWO_WHEELER_CLASSES } from '../core/types.js';

const TWO_WHEELERS: ReadonlySet<ObjectClass> = new Set(TWO_WHEELER_CLASSES);

/** Share of the person box's width that lies over the two-wheeler. */
function horizontalCover(person: Box, wheel: Box): number {
  const overlap = Math.min(person.x + person.w, wheel.x + wheel.w) - Math.max(person.x, wheel.x);
  return Math.max(0, overlap) / person.w;
}

/**
 * A rider sits over the two-wheeler: mostly above it in x, head above its top, feet or hips inside
 * its box (not below it). A pedestrian beside a parked bicycle fails the x or the feet test.
 */
export function isRiding(person: Box, wheel: Box): boolean {
  if (horizontalCover(person, wheel) < 0.5) return false;
  const feet = person.y + person.h;
  return person.y < wheel.y + 0.25 * wheel.h && feet > wheel.y + 0.2 * wheel.h && feet < wheel.y + wheel.h * 1.15;
}

function union(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}

/**
 * Each two-wheeler takes the people riding it (a pillion too): one detection of the two-wheeler's
 * class over rider and vehicle, with the higher score. Input untouched.
 */
export function fuseRiders(dets: readonly Detection[]): Detection[] {
  const wheels = dets.filter((d) => TWO_WHEELERS.has(d.cls));
  if (wheels.length === 0) return [...dets];
  const absorbed = new Set<Detection>();
  const fused = new Map<Detection, Detection>();
  for (const p of dets) {
    if (p.cls !== 'person') continue;
    let best: Detection | null = null;
    let bestCover = 0;
    for (const w of wheels) {
      if (!isRiding(p.box, w.box)) continue;
      const cover = horizontalCover(p.box, w.box);
      if (cover > bestCover) {
        bestCover = cover;
        best = w;
      }
    }
    if (!best) continue;
    const cur = fused.get(best) ?? best;
    fused.set(best, { box: union(cur.box, p.box), cls: best.cls, score: Math.max(cur.score, p.score) });
    absorbed.add(p);
  }
  return dets.filter((d) => !absorbed.has(d)).map((d) => fused.get(d) ?? d);
}

export interface RiderSpeedOptions {
  /** A 'person' track faster than this many of its own heights per second is riding something. */
  riderHeightsPerSecond: number;
  /** ...and a motorcycle above this speed (a bicycle below). */
  motorcycleHeightsPerSecond: number;
  /** Matched frames needed before the speed is trusted. */
  minHits: number;
}

export const DEFAULT_RIDER_SPEED: RiderSpeedOptions = { riderHeightsPerSecond: 2.5, motorcycleHeightsPerSecond: 6, minHits: 3 };

/**
 * The class of a track whose votes say 'person' but that moves at vehicle speed: walking is about
 * one body height per second, cycling three to five, a motorbike in traffic more.
 */
export function riderClass(speedPxPerSec: number, heightPx: number, hits: number, o: RiderSpeedOptions = DEFAULT_RIDER_SPEED): ObjectClass | null {
  if (hits < o.minHits || heightPx <= 0) return null;
  const hps = speedPxPerSec / heightPx;
  if (hps < o.riderHeightsPerSecond) return null;
  return hps >= o.motorcycleHeightsPerSecond ? 'motorcycle' : 'bicycle';
}
