// Heavy vehicles by size. Road-camera detectors (person-vehicle-bike-detection-2003) say only
// 'vehicle', and small COCO models often call a lorry a car. A lorry or a bus stands about twice as
// tall as a car at the same distance, and cars are most of the traffic: so each camera learns the
// usual height of a car box by where its bottom edge is in the picture (distance from the camera),
// and a 'car' track whose boxes are, by the median over its life, much taller than the cars seen at
// their rows is a truck (one frame is not enough: a lorry half out of the picture looks like a car,
// and a car box may swell for a frame).
// Two-wheelers by size, the same way across: a motorbike with its rider is about 0.8 m wide, a car
// about 1.8 m; road-camera models often box a scooter seen from behind as 'vehicle'. A 'car' track
// whose boxes are, by the median over its life, much narrower than the cars at their rows is a
// motorcycle. Boxes cut by the frame edge say nothing about width and are left out.
import type { Detection } from '../core/types.js';

export interface SizeClassOptions {
  /** A car box this many times taller than the median car at its row is a truck. */
  heavyRatio: number;
  /** A car track whose boxes are (median) narrower than this share of the median car width at their rows is a motorcycle; null: off. */
  narrowRatio: number | null;
  /** Rows of the picture (by the box's bottom edge) with their own median. */
  bands: number;
  /** Car boxes remembered per band (the most recent). */
  memory: number;
  /** No verdict in a band before it has seen this many cars. */
  minSamples: number;
  /** Only boxes at or above this score teach the model what a car looks like. */
  learnScore: number;
  /**
   * A band with too few cars of its own takes the perspective line through the bands with at least
   * this many (a flat road: a car's size in the picture grows linearly with its bottom row); null: off.
   */
  perspectiveMinSamples: number | null;
}

// heavyRatio 1.4, not the 2 of a lorry's height alone: a box is the vehicle's outline from a raised
// camera (roof and length, not height), and a lorry in spray is boxed short. On the counts dev set
// (bench/run.ts counts) 1.7 found 3 of 8 trucks and buses (heavy totals 8 → 3 at 5 fps, 8 → 4 at
// 10); 1.4 finds 6 of 8 at either rate and names 3 (5 fps) / 1 (10 fps) large vans trucks (8 → 9, 8 → 8).
// perspectiveMinSamples 7: a camera's first seconds. A lorry crossing 1.4 s into uk-motorway-rain had
// no row learnt under it and stayed a car at 5 fps; with the line it is a truck (7 of 8 at 5 fps; 10
// fps, where it was found already, names one early car a truck). 3 to 5 named more cars trucks.
export const DEFAULT_SIZE_CLASS: SizeClassOptions = { heavyRatio: 1.4, narrowRatio: 0.7, bands: 24, memory: 200, minSamples: 10, learnScore: 0.3, perspectiveMinSamples: 7 };

export class VehicleSizeModel {
  private readonly heights: SizeRing;
  private readonly widths: SizeRing;

  constructor(private readonly o: SizeClassOptions = DEFAULT_SIZE_CLASS) {
    this.heights = new SizeRing(o);
    this.widths = new SizeRing(o);
  }

  private band(bottom: number, frameHeight: number): number {
    return Math.max(0, Math.min(this.o.bands - 1, Math.floor((bottom / frameHeight) * this.o.bands)));
  }

  /** Median car height in the band of this bottom edge; null while the band has seen too few cars. */
  medianAt(bottom: number, frameHeight: number): number | null {
    return this.heights.median(this.band(bottom, frameHeight));
  }

  /** Height of a car box over the median car at its row; null while that row has seen too few cars. */
  ratio(d: Detection, frameHeight: number): number | null {
    if (d.cls !== 'car' || frameHeight <= 0) return null;
    const median = this.medianAt(d.box.y + d.box.h, frameHeight);
    return median !== null && median > 0 ? d.box.h / median : null;
  }

  /**
   * Width of a vehicle box (any class but person: a scooter is boxed 'vehicle' in one frame and
   * 'bike' in the next) over the median car width at its row; null when cut by a side edge or the
   * row is unknown.
   */
  widthRatio(d: Detection, frameWidth: number, frameHeight: number): number | null {
    if (d.cls === 'person' || frameHeight <= 0 || cutBySide(d, frameWidth)) return null;
    const median = this.widths.median(this.band(d.box.y + d.box.h, frameHeight));
    return median !== null && median > 0 ? d.box.w / median : null;
  }

  /** Learns from one frame's confident car boxes. */
  learn(dets: readonly Detection[], frameHeight: number, frameWidth = 0): void {
    if (frameHeight <= 0) return;
    for (const d of dets) {
      if (d.cls !== 'car' || d.score < this.o.learnScore) continue;
      const b = this.band(d.box.y + d.box.h, frameHeight);
      this.heights.add(b, d.box.h);
      if (frameWidth > 0 && !cutBySide(d, frameWidth)) this.widths.add(b, d.box.w);
    }
    this.heights.settle();
    this.widths.settle();
  }
}

/** A box touching the left or right border: the vehicle may be only partly in the picture. */
function cutBySide(d: Detection, frameWidth: number): boolean {
  return frameWidth > 0 && (d.box.x <= 2 || d.box.x + d.box.w >= frameWidth - 2);
}

/** Per band, the most recent `memory` sizes and their median once `minSamples` are in. */
class SizeRing {
  private readonly rings: RollingMedian[];
  private readonly medians: Array<number | null>;
  private readonly touched = new Set<number>();

  /** Perspective line size = slope × band + intercept, or null while too few bands know their size. */
  private line: { slope: number; intercept: number } | null = null;

  constructor(private readonly o: Pick<SizeClassOptions, 'bands' | 'memory' | 'minSamples' | 'perspectiveMinSamples'>) {
    this.rings = Array.from({ length: o.bands }, () => new RollingMedian(o.memory));
    this.medians = new Array<number | null>(o.bands).fill(null);
  }

  add(band: number, size: number): void {
    const ring = this.rings[band];
    if (!ring) return;
    ring.push(size);
    this.touched.add(band);
  }

  /** Takes the medians of the bands added to since the last call. */
  settle(): void {
    if (this.touched.size === 0) return;
    for (const b of this.touched) {
      const ring = this.rings[b];
      if (ring && ring.length >= this.o.minSamples) this.medians[b] = ring.median();
    }
    this.touched.clear();
    const min = this.o.perspectiveMinSamples;
    if (min !== null && this.medians.some((m) => m === null)) this.line = this.perspective(min);
  }

  median(band: number): number | null {
    const own = this.medians[band] ?? null;
    if (own !== null || !this.line) return own;
    const v = this.line.slope * band + this.line.intercept;
    return v > 0 ? v : null;
  }

  /**
   * Theil–Sen line through the bands' medians (those with at least `min` boxes): the median of the
   * slopes between every two of them, so a band that has only seen one lorry does not tilt it. Needs
   * three bands spanning a quarter of the picture; a line that does not grow towards the camera (down
   * the picture) is no perspective.
   */
  private perspective(min: number): { slope: number; intercept: number } | null {
    const pts: Array<[number, number]> = [];
    this.rings.forEach((ring, b) => {
      const m = ring.length >= min ? ring.median() : null;
      if (m !== null) pts.push([b, m]);
    });
    if (pts.length < 3 || (pts[pts.length - 1]![0] - pts[0]![0]) < this.o.bands / 4) return null;
    const slopes: number[] = [];
    for (let i = 0; i < pts.length; i++) for (let j = i + 1; j < pts.length; j++) slopes.push((pts[j]![1] - pts[i]![1]) / (pts[j]![0] - pts[i]![0]));
    const slope = median(slopes) as number;
    if (!(slope > 0)) return null;
    const intercept = median(pts.map(([b, v]) => v - slope * b)) as number;
    return { slope, intercept };
  }
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? null;
}

/**
 * The last `capacity` values and their median (the upper one of an even count, as median()), kept
 * sorted as values come and go: a track's size ratios are asked for their median every frame, and
 * sorting them each time was the tracker's largest cost (a third of it at 200 objects).
 */
export class RollingMedian {
  private readonly arrival: number[] = [];
  private readonly sorted: number[] = [];
  private oldest = 0;

  constructor(private readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('RollingMedian capacity must be at least 1');
  }

  get length(): number {
    return this.sorted.length;
  }

  /** Adds a value, dropping the oldest when full; a value that is not finite is ignored. */
  push(v: number): void {
    if (!Number.isFinite(v)) return;
    if (this.arrival.length < this.capacity) this.arrival.push(v);
    else {
      const out = this.arrival[this.oldest] as number; // oldest < capacity = arrival.length
      this.arrival[this.oldest] = v;
      this.oldest = (this.oldest + 1) % this.capacity;
      this.sorted.splice(lowerBound(this.sorted, out), 1);
    }
    this.sorted.splice(lowerBound(this.sorted, v), 0, v);
  }

  median(): number | null {
    return this.sorted.length ? (this.sorted[Math.floor(this.sorted.length / 2)] as number) : null;
  }
}

/** First index of a sorted array whose value is not below v. */
function lowerBound(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A track's ratios: the rolling window the tracker keeps, or a plain list. */
export type Ratios = RollingMedian | readonly number[];

function medianOf(r: Ratios): number | null {
  return r instanceof RollingMedian ? r.median() : median(r);
}

/** A car track is a truck when the median of its height ratios (at least `minFrames`) passes the heavy ratio. */
export function heavyBySize(ratios: Ratios, o: SizeClassOptions, minFrames = 3): boolean {
  if (ratios.length < minFrames) return false;
  const m = medianOf(ratios);
  return m !== null && m > o.heavyRatio;
}

/**
 * A car track is a motorcycle when the median of its width ratios (at least `minFrames`) is below the
 * narrow ratio and its boxes are (median) taller than wide: a two-wheeler seen end-on is, a car from
 * any side is not (a car on a far lane of a curved road can be narrow for its row, never upright).
 */
export function narrowBySize(ratios: Ratios, aspects: Ratios, o: SizeClassOptions, minFrames = 3): boolean {
  if (o.narrowRatio === null || ratios.length < minFrames) return false;
  const m = medianOf(ratios);
  const a = medianOf(aspects);
  return m !== null && m < o.narrowRatio && a !== null && a < 1;
}
