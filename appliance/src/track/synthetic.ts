// Deterministic synthetic traffic for tests and benchmarks: boxes that enter the frame, move at a
// constant velocity with some box jitter and missed detections, and leave.
import type { Detection, FrameDetections, ObjectClass } from '../core/types.js';

/** mulberry32: small seeded PRNG so scenes are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticObject {
  gtId: number;
  cls: ObjectClass;
  x: number;
  y: number;
  w: number;
  h: number;
  vx: number;
  vy: number;
}

export interface SyntheticSceneOptions {
  width: number;
  height: number;
  fps: number;
  /** Objects kept in view: a new one enters when one leaves. */
  objects: number;
  /** Box jitter std in px. */
  jitterPx: number;
  /** Probability that a detection is missed in a frame. */
  missRate: number;
  seed: number;
  startMs: number;
}

/** Vehicles driving left↔right in horizontal lanes, as on a side view of a multi-lane road. */
export class SyntheticScene {
  private readonly rnd: () => number;
  private readonly objs: SyntheticObject[] = [];
  private nextGt = 1;
  private seq = 0;
  constructor(private readonly o: SyntheticSceneOptions) {
    this.rnd = seededRandom(o.seed);
    for (let i = 0; i < o.objects; i++) this.objs.push(this.spawn(true));
  }

  private spawn(anywhere: boolean): SyntheticObject {
    const { width, height } = this.o;
    const lanes = Math.max(2, Math.floor(height / 40));
    const lane = Math.floor(this.rnd() * lanes);
    const dir = lane % 2 === 0 ? 1 : -1;
    const w = 30 + this.rnd() * 30;
    const h = w * (0.5 + this.rnd() * 0.2);
    const speed = (60 + this.rnd() * 120) * dir; // px/s
    const x = anywhere ? this.rnd() * (width - w) : dir > 0 ? -w + 1 : width - 1;
    const y = ((lane + 0.5) * height) / lanes - h / 2;
    const cls: ObjectClass = this.rnd() < 0.8 ? 'car' : 'truck';
    return { gtId: this.nextGt++, cls, x, y, w, h, vx: speed, vy: 0 };
  }

  /** Advance one frame and return its detections (in random order). */
  next(): { fd: FrameDetections; truth: SyntheticObject[] } {
    const dt = 1 / this.o.fps;
    const { width, height } = this.o;
    if (this.seq > 0) {
      for (const [i, ob] of this.objs.entries()) {
        ob.x += ob.vx * dt;
        ob.y += ob.vy * dt;
        if (ob.x > width || ob.x + ob.w < 0) this.objs[i] = this.spawn(false);
      }
    }
    const dets: Detection[] = [];
    for (const ob of this.objs) {
      if (this.rnd() < this.o.missRate) continue;
      const j = (): number => (this.rnd() + this.rnd() + this.rnd() - 1.5) * 2 * this.o.jitterPx;
      const x0 = Math.max(0, ob.x + j());
      const x1 = Math.min(width, ob.x + ob.w + j());
      const y0 = Math.max(0, ob.y + j());
      const y1 = Math.min(height, ob.y + ob.h + j());
      if (x1 - x0 < 4 || y1 - y0 < 4) continue;
      dets.push({ box: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, cls: ob.cls, score: 0.55 + this.rnd() * 0.4 });
    }
    for (let i = dets.length - 1; i > 0; i--) {
      const k = Math.floor(this.rnd() * (i + 1));
      [dets[i], dets[k]] = [dets[k]!, dets[i]!]; // k ≤ i < dets.length
    }
    const seq = this.seq++;
    return {
      fd: { cameraId: 'synthetic', seq, timestampMs: this.o.startMs + Math.round((seq * 1000) / this.o.fps), width, height, detections: dets },
      truth: this.objs.map((ob) => ({ ...ob })),
    };
  }
}
