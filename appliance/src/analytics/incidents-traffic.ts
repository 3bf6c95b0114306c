// What the incident rules need to know about traffic beyond one track's speed: when each vehicle
// stopped and whether it stopped suddenly (from speed), which way it was heading, and whether its stop
// is normal: at a stop line, or in the queue behind another stopped vehicle. Computed once per frame
// for every rule (stopped vehicle, collision).
import type { IncidentRulesConfig, StopLineConfig } from '../config/schema.js';
import type { Box, Point } from '../core/types.js';
import { dot, norm, sub, unit } from './geometry.js';
import type { FrameContext, TrackView } from './types.js';
import type { ZoneShape } from './zones.js';

/** Gaps shorter than this in a "slow" run are noise (one frame of box jitter). */
const SLOW_GRACE_MS = 1000;
/** Speed samples kept per track (s): covers the sudden-stop window with margin. */
const HISTORY_SECONDS = 12;

interface SpeedSample {
  tMs: number;
  /** Speed in the rule's unit (km/h when calibrated, else px/s). */
  speed: number;
  /** The speed is in km/h. */
  kmh: boolean;
  /** Vehicle lengths (the box's larger side) per second: a scale-free speed without calibration. */
  lengthsPerSec: number;
  anchorPx: Point;
}

export interface StopInfo {
  /** When the current slow run began. */
  sinceMs: number;
  /** It was fast within the sudden-stop window before sinceMs. */
  sudden: boolean;
  /** Direction of travel (px, unit) over the last moving stretch before it stopped; null if it never moved. */
  heading: Point | null;
  /** Last time in this stop it was queued (at a stop line or behind a stopped vehicle). */
  queuedAtMs: number | null;
}

interface TrackMemory {
  samples: SpeedSample[];
  slowSinceMs: number | null;
  lastSlowMs: number;
  stop: StopInfo | null;
  /** Last heading while moving. */
  heading: Point | null;
}

/**
 * Why a stopped vehicle's stop is (probably) normal traffic: it waits at a stop line, behind another
 * stopped vehicle, or heads a queue that formed behind it after it stopped gently (a signal nobody
 * drew a stop line for).
 */
export type QueueRole = 'at-stop-line' | 'behind' | 'queue-head';

export interface QueueInfo {
  role: QueueRole;
  /** The stopped vehicle ahead (role 'behind'). */
  aheadId: number | null;
}

type StoppedConfig = IncidentRulesConfig['stoppedVehicle'];

export function boxSizePx(b: Box): number {
  return Math.max(b.w, b.h, 1);
}

/** Distance from p to segment ab. */
export function distanceToSegment(p: Point, a: Point, b: Point): number {
  const ab = sub(b, a);
  const len2 = dot(ab, ab);
  const t = len2 > 0 ? Math.max(0, Math.min(1, dot(sub(p, a), ab) / len2)) : 0;
  return norm(sub(p, { x: a.x + t * ab.x, y: a.y + t * ab.y }));
}

/** Gap between two boxes (0 when they overlap), px. */
export function boxGapPx(a: Box, b: Box): number {
  const dx = Math.max(0, Math.max(a.x, b.x) - Math.min(a.x + a.w, b.x + b.w));
  const dy = Math.max(0, Math.max(a.y, b.y) - Math.min(a.y + a.h, b.y + b.h));
  return Math.hypot(dx, dy);
}

export class TrafficState {
  private readonly mem = new Map<number, TrackMemory>();
  private queue = new Map<number, QueueInfo>();
  private views = new Map<number, TrackView>();
  /** Size of the analysed frame (px per relative unit). */
  private frame: Point = { x: 1, y: 1 };

  constructor(
    private readonly cfg: StoppedConfig,
    private readonly zones: readonly ZoneShape[],
    private readonly stopLines: readonly StopLineConfig[],
  ) {}

  /** Feed one frame (before the rules run). */
  observe(ctx: FrameContext): void {
    this.views = new Map(ctx.tracks.map((t) => [t.id, t]));
    this.frame = { x: ctx.width, y: ctx.height };
    for (const tv of ctx.tracks) {
      if (!tv.isVehicle || tv.status !== 'confirmed') continue;
      const speed = this.speedOf(ctx, tv);
      let m = this.mem.get(tv.id);
      if (!m) {
        m = { samples: [], slowSinceMs: null, lastSlowMs: 0, stop: null, heading: null };
        this.mem.set(tv.id, m);
      }
      if (speed === null) continue;
      const size = boxSizePx(tv.boxPx);
      const kmh = ctx.groundOfRel !== null && tv.speedKmh !== null;
      m.samples.push({ tMs: ctx.tMs, speed, kmh, lengthsPerSec: (tv.speedPxPerSec ?? 0) / size, anchorPx: tv.anchorPx });
      while (m.samples.length > 2 && (m.samples[0]?.tMs ?? ctx.tMs) < ctx.tMs - HISTORY_SECONDS * 1000) m.samples.shift();
      const slow = speed <= this.maxSpeed(ctx, tv);
      if (slow) {
        if (m.slowSinceMs === null || ctx.tMs - m.lastSlowMs > SLOW_GRACE_MS) {
          m.slowSinceMs = ctx.tMs;
          m.stop = { sinceMs: ctx.tMs, sudden: this.wasFast(m, ctx.tMs), heading: m.heading, queuedAtMs: null };
        }
        m.lastSlowMs = ctx.tMs;
      } else {
        if (m.slowSinceMs !== null && ctx.tMs - m.lastSlowMs > SLOW_GRACE_MS) {
          m.slowSinceMs = null;
          m.stop = null;
        }
        if (m.slowSinceMs === null) m.heading = headingOf(m.samples) ?? m.heading;
      }
    }
    this.queue = this.analyseQueues();
    for (const [id, q] of this.queue) {
      const stop = this.stopOf(id);
      if (stop && q.role !== 'queue-head') stop.queuedAtMs = ctx.tMs;
    }
  }

  /** Queued now, or recently in this stop: a queue discharges from its head, so the vehicles behind wait a little longer. */
  wasQueued(id: number, tMs: number): boolean {
    const q = this.queue.get(id);
    if (q && q.role !== 'queue-head') return true;
    const at = this.stopOf(id)?.queuedAtMs ?? null;
    return at !== null && tMs - at <= this.cfg.queueMemorySeconds * 1000;
  }

  /** The vehicle's current stop, if it is stopped now (a lost track keeps its last stop). */
  stopOf(id: number): StopInfo | null {
    const m = this.mem.get(id);
    return m?.slowSinceMs !== null ? (m?.stop ?? null) : null;
  }

  /** Why this stopped vehicle's stop is normal, or null. */
  queueOf(id: number): QueueInfo | null {
    return this.queue.get(id) ?? null;
  }

  /** Vehicles queued (directly or in a chain) behind this one. */
  queuedBehind(id: number): number[] {
    const out: number[] = [];
    const seen = new Set([id]);
    let frontier = [id];
    while (frontier.length) {
      const next: number[] = [];
      for (const [v, q] of this.queue) {
        if (q.role === 'behind' && q.aheadId !== null && frontier.includes(q.aheadId) && !seen.has(v)) {
          seen.add(v);
          out.push(v);
          next.push(v);
        }
      }
      frontier = next;
    }
    return out.sort((a, b) => a - b);
  }

  speedOf(ctx: FrameContext, tv: TrackView): number | null {
    return ctx.groundOfRel !== null && tv.speedKmh !== null ? tv.speedKmh : tv.speedPxPerSec;
  }

  maxSpeed(ctx: FrameContext, tv: TrackView): number {
    return ctx.groundOfRel !== null && tv.speedKmh !== null ? this.cfg.maxSpeedKmh : this.cfg.maxSpeedPxPerSec;
  }

  forget(ids: readonly number[]): void {
    for (const id of ids) {
      this.mem.delete(id);
      this.queue.delete(id);
    }
  }

  size(): number {
    return this.mem.size;
  }

  /** Fast (from speed) within the sudden window before tMs: km/h when calibrated, vehicle lengths/s without. */
  private wasFast(m: TrackMemory, tMs: number): boolean {
    const from = tMs - this.cfg.suddenWindowSeconds * 1000;
    return m.samples.some((s) => s.tMs >= from && s.tMs < tMs && (s.kmh ? s.speed >= this.cfg.suddenFromKmh : s.lengthsPerSec >= this.cfg.suddenFromLengthsPerSec));
  }

  /**
   * Stopped vehicles whose stop is normal: one within reach of a stop line waits at it; one with a
   * stopped vehicle close ahead (along its heading or its lane) waits behind it.
   */
  private analyseQueues(): Map<number, QueueInfo> {
    const out = new Map<number, QueueInfo>();
    const stopped = [...this.views.values()].filter((tv) => tv.isVehicle && this.stopOf(tv.id) !== null);
    for (const tv of stopped) {
      const size = boxSizePx(tv.boxPx);
      const w = this.frame;
      for (const l of this.stopLines) {
        const d = distanceToSegment(tv.anchorPx, { x: l.from.x * w.x, y: l.from.y * w.y }, { x: l.to.x * w.x, y: l.to.y * w.y });
        if (d <= this.cfg.stopLineReachLengths * size) {
          out.set(tv.id, { role: 'at-stop-line', aheadId: null });
          break;
        }
      }
    }
    for (const tv of stopped) {
      if (out.has(tv.id)) continue;
      const dir = this.directionOf(tv);
      const size = boxSizePx(tv.boxPx);
      let best: { id: number; d: number } | null = null;
      for (const other of stopped) {
        if (other.id === tv.id) continue;
        const rel = sub(other.anchorPx, tv.anchorPx);
        const d = norm(rel);
        const reach = this.cfg.queueGapLengths * Math.max(size, boxSizePx(other.boxPx));
        if (d > reach) continue;
        if (dir) {
          const along = dot(rel, dir);
          const across = Math.abs(rel.x * dir.y - rel.y * dir.x);
          if (along <= 0 || across > 0.8 * Math.max(tv.boxPx.w, other.boxPx.w)) continue;
        }
        if (!best || d < best.d) best = { id: other.id, d };
      }
      if (best) out.set(tv.id, { role: 'behind', aheadId: best.id });
    }
    const aheadOfSomeone = new Set([...out.values()].map((q) => q.aheadId));
    for (const tv of stopped) {
      if (out.has(tv.id) || !aheadOfSomeone.has(tv.id) || this.stopOf(tv.id)?.sudden) continue;
      out.set(tv.id, { role: 'queue-head', aheadId: null });
    }
    return out;
  }

  /** Which way "ahead" is (px, unit): the zone's lane direction, else the way the vehicle was driving. */
  private directionOf(tv: TrackView): Point | null {
    return this.laneOf(tv) ?? this.stopOf(tv.id)?.heading ?? null;
  }

  /** The lane direction (px, unit) at this track, if a lane zone holds it. */
  laneOf(tv: TrackView): Point | null {
    for (const z of this.zones) if (z.laneDirection && tv.zones.includes(z.id)) return unit({ x: z.laneDirection.x * this.frame.x, y: z.laneDirection.y * this.frame.y });
    return null;
  }
}

/** Unit direction of the anchor over the last second of samples, if it moved at least a few px. */
function headingOf(samples: readonly SpeedSample[]): Point | null {
  const last = samples[samples.length - 1];
  if (!last) return null;
  const first = samples.find((s) => s.tMs >= last.tMs - 1500);
  if (!first || first === last) return null;
  const d = sub(last.anchorPx, first.anchorPx);
  return norm(d) >= 3 ? unit(d) : null;
}
