// Heavy vehicles by size. Road-camera detectors (person-vehicle-bike-detection-2003) say only
// 'vehicle', and small COCO models often call a lorry a car. A lorry or a bus stands about twice as
// tall as a car at the same distance, and cars are most of the traffic: so each camera learns the
// usual height of a car box by where its bottom edge is in the picture (distance from the camera),
// and a 'car' track whose boxes are, by the median over its life, much taller than the cars seen at
// their rows is a truck (one frame is not enough: a lorry half out of the picture looks like a car,
// and a car box may swell for a frame).
import type { Detection } from '../core/types.js';

export interface SizeClassOptions {
  /** A car box this many times taller than the median car at its row is a truck. */
  heavyRatio: number;
  /** Rows of the picture (by the box's bottom edge) with their own median. */
  bands: number;
  /** Car boxes remembered per band (the most recent). */
  memory: number;
  /** No verdict in a band before it has seen this many cars. */
  minSamples: number;
  /** Only boxes at or above this score teach the model what a car looks like. */
  learnScore: number;
}

export const DEFAULT_SIZE_CLASS: SizeClassOptions = { heavyRatio: 1.7, bands: 24, memory: 200, minSamples: 10, learnScore: 0.3 };

export class VehicleSizeModel {
  private readonly heights: number[][];
  private readonly next: number[];
  private readonly medians: Array<number | null>;

  constructor(private readonly o: SizeClassOptions = DEFAULT_SIZE_CLASS) {
    this.heights = Array.from({ length: o.bands }, () => []);
    this.next = new Array<number>(o.bands).fill(0);
    this.medians = new Array<number | null>(o.bands).fill(null);
  }

  private band(bottom: number, frameHeight: number): number {
    return Math.max(0, Math.min(this.o.bands - 1, Math.floor((bottom / frameHeight) * this.o.bands)));
  }

  /** Median car height in the band of this bottom edge; null while the band has seen too few cars. */
  medianAt(bottom: number, frameHeight: number): number | null {
    return this.medians[this.band(bottom, frameHeight)] ?? null;
  }

  /** Height of a car box over the median car at its row; null while that row has seen too few cars. */
  ratio(d: Detection, frameHeight: number): number | null {
    if (d.cls !== 'car' || frameHeight <= 0) return null;
    const median = this.medianAt(d.box.y + d.box.h, frameHeight);
    return median !== null && median > 0 ? d.box.h / median : null;
  }

  /** Learns from one frame's confident car boxes. */
  learn(dets: readonly Detection[], frameHeight: number): void {
    if (frameHeight <= 0) return;
    const touched = new Set<number>();
    for (const d of dets) {
      if (d.cls !== 'car' || d.score < this.o.learnScore) continue;
      const b = this.band(d.box.y + d.box.h, frameHeight);
      const ring = this.heights[b];
      if (!ring) continue;
      const at = this.next[b] ?? 0;
      if (ring.length < this.o.memory) ring.push(d.box.h);
      else ring[at] = d.box.h;
      this.next[b] = (at + 1) % this.o.memory;
      touched.add(b);
    }
    for (const b of touched) {
      const ring = this.heights[b] ?? [];
      if (ring.length < this.o.minSamples) continue;
      this.medians[b] = median(ring);
    }
  }
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? null;
}

/** A car track is a truck when the median of its height ratios (at least `minFrames`) passes the heavy ratio. */
export function heavyBySize(ratios: readonly number[], o: SizeClassOptions, minFrames = 3): boolean {
  if (ratios.length < minFrames) return false;
  const m = median(ratios);
  return m !== null && m > o.heavyRatio;
}
