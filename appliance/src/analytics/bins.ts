// Wall-clock aligned intervals: a bin of b seconds starts at floor(t / b) · b. A bin is closed when a
// frame's timestamp reaches its end (or on flush). Bins in which no frame arrived are never emitted,
// so consumers can tell a gap (camera down) from a zero count.
// The first bin after a start, a reconfiguration or a lost stream starts at the first frame, and a
// flush ends the open bin at the flush time: such bins are `partial`, never claim time that was not
// observed, and never repeat the start of an interval already emitted.

import type { DataQualityFlag } from '../core/types.js';

export interface Bin {
  binSeconds: number;
  startMs: number;
  endMs: number;
  /** Shorter than binSeconds: observation began or ended inside the interval. */
  partial: boolean;
  /** Data-quality flags raised during the interval (camera health); absent = none. */
  flags?: Set<DataQualityFlag>;
}

export class BinClock {
  private readonly open = new Map<number, Bin>();
  /** No frame since construction or the last flush: the next bins start at the next frame. */
  private fresh = true;
  constructor(readonly binSeconds: readonly number[]) {
    for (const b of binSeconds) if (!(Number.isInteger(b) && b >= 1)) throw new RangeError(`binSeconds must be integers ≥ 1, got ${b}`);
  }

  /** Bins that end at or before tMs (to be emitted before the frame at tMs is counted). */
  closeUntil(tMs: number): Bin[] {
    const closed: Bin[] = [];
    for (const [b, bin] of this.open) {
      if (tMs >= bin.endMs) {
        closed.push(bin);
        this.open.delete(b);
      }
    }
    return closed;
  }

  /** Make sure every bin size has an open bin; a frame older than the open bin is counted in it. */
  openAt(tMs: number): void {
    for (const b of this.binSeconds) {
      if (this.open.has(b)) continue;
      const ms = b * 1000;
      const aligned = Math.floor(tMs / ms) * ms;
      const startMs = this.fresh ? Math.max(aligned, Math.floor(tMs)) : aligned;
      this.open.set(b, { binSeconds: b, startMs, endMs: aligned + ms, partial: startMs !== aligned });
    }
    this.fresh = false;
  }

  /** Close every open bin (flush) at nowMs: a bin still running ends there, as a partial one. */
  closeAll(nowMs: number = Number.POSITIVE_INFINITY): Bin[] {
    const all = [...this.open.values()].map((bin) => {
      const endMs = Math.min(bin.endMs, Math.max(bin.startMs + 1, Math.floor(nowMs)));
      return endMs === bin.endMs ? bin : { ...bin, endMs, partial: true };
    });
    this.open.clear();
    this.fresh = true;
    return all;
  }

  /** ORs flags (e.g. the camera's open health problems at this frame) into every open bin. */
  flag(flags: readonly DataQualityFlag[]): void {
    if (flags.length === 0) return;
    for (const bin of this.open.values()) for (const f of flags) (bin.flags ??= new Set()).add(f);
  }

  isOpen(): boolean {
    return this.open.size > 0;
  }
}

export function binFields(cameraId: string, bin: Bin) {
  return {
    cameraId,
    intervalStart: new Date(bin.startMs).toISOString(),
    intervalEnd: new Date(bin.endMs).toISOString(),
    binSeconds: bin.binSeconds,
    ...(bin.partial ? { partial: true } : {}),
    ...(bin.flags?.size ? { flags: [...bin.flags].sort() } : {}),
  };
}
