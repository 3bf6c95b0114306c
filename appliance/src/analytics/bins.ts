// Wall-clock aligned intervals: a bin of b seconds starts at floor(t / b) · b. A bin is closed when a
// frame's timestamp reaches its end (or on flush). Bins in which no frame arrived are never emitted,
// so consumers can tell a gap (camera down) from a zero count.

export interface Bin {
  binSeconds: number;
  startMs: number;
  endMs: number;
}

export class BinClock {
  private readonly open = new Map<number, Bin>();
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
      const startMs = Math.floor(tMs / ms) * ms;
      this.open.set(b, { binSeconds: b, startMs, endMs: startMs + ms });
    }
  }

  /** Close every open bin (flush). */
  closeAll(): Bin[] {
    const all = [...this.open.values()];
    this.open.clear();
    return all;
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
  };
}
