// Per-track speed of the bottom-centre anchor: a least-squares line through the positions of the
// last `windowSeconds`, in pixels and (with calibration) on the ground plane. Fitting a line over a
// window rather than differencing two frames keeps box jitter from turning into speed noise.
import type { Point } from '../core/types.js';

interface Sample {
  t: number;
  px: Point;
  g: Point | null;
}

export interface MotionOptions {
  windowSeconds: number;
  /** The window must span at least this fraction of windowSeconds before a speed is reported. */
  minSpanFraction: number;
  minSamples: number;
}

export const DEFAULT_MOTION_OPTIONS: MotionOptions = { windowSeconds: 1.0, minSpanFraction: 0.6, minSamples: 3 };

export interface MotionEstimate {
  speedPxPerSec: number | null;
  speedKmh: number | null;
}

export class TrackMotion {
  private readonly history = new Map<number, Sample[]>();
  constructor(private readonly opts: MotionOptions = DEFAULT_MOTION_OPTIONS) {}

  observe(id: number, tMs: number, px: Point, ground: Point | null): MotionEstimate {
    let h = this.history.get(id);
    if (!h) {
      h = [];
      this.history.set(id, h);
    }
    const t = tMs / 1000;
    const last = h[h.length - 1];
    if (last && t <= last.t) h.pop(); // same or older timestamp: keep the latest
    h.push({ t, px: { x: px.x, y: px.y }, g: ground ? { x: ground.x, y: ground.y } : null });
    const from = t - this.opts.windowSeconds;
    while (h.length > 2 && (h[1]?.t ?? Infinity) <= from) h.shift();
    return this.estimate(h);
  }

  forget(id: number): void {
    this.history.delete(id);
  }

  size(): number {
    return this.history.size;
  }

  private estimate(h: Sample[]): MotionEstimate {
    const [first] = h;
    const last = h[h.length - 1];
    const span = first && last ? last.t - first.t : 0;
    if (h.length < this.opts.minSamples || span < this.opts.windowSeconds * this.opts.minSpanFraction) {
      return { speedPxPerSec: null, speedKmh: null };
    }
    const vpx = slope(h, (s) => s.px);
    const speedPxPerSec = Math.hypot(vpx.x, vpx.y);
    let speedKmh: number | null = null;
    if (h.every((s) => s.g !== null)) {
      const vg = slope(h, (s) => s.g as Point);
      speedKmh = Math.hypot(vg.x, vg.y) * 3.6;
    }
    return { speedPxPerSec, speedKmh };
  }
}

/** Least-squares d(point)/dt over the samples. */
function slope(h: Sample[], get: (s: Sample) => Point): Point {
  const n = h.length;
  let mt = 0;
  let mx = 0;
  let my = 0;
  for (const s of h) {
    const p = get(s);
    mt += s.t;
    mx += p.x;
    my += p.y;
  }
  mt /= n;
  mx /= n;
  my /= n;
  let stt = 0;
  let stx = 0;
  let sty = 0;
  for (const s of h) {
    const p = get(s);
    const dt = s.t - mt;
    stt += dt * dt;
    stx += dt * (p.x - mx);
    sty += dt * (p.y - my);
  }
  return stt > 0 ? { x: stx / stt, y: sty / stt } : { x: 0, y: 0 };
}
