// Wall-clock aligned intervals. A bin of b seconds starts where the local time of the configured IANA
// zone (default UTC) is a multiple of b (so 15-min and hour bins follow zones with :30 or :45 offsets),
// and is closed when a frame's timestamp reaches its end (or on flush, or by tick() during a gap).
// - The first bin after a start or a reconfiguration begins at the first frame, and a flush (shutdown,
//   reconfiguration) ends the open bin at the flush time: such bins are `partial` and carry their real
//   observed period, never more.
// - A lost stream does not end a bin: the bin continues across the reconnect and is flagged
//   'stream-gap'; bins that pass entirely while the stream is down are emitted too (by tick()), flagged
//   'stream-gap', so every interval of the timeline is either data or an explicit gap.
// - Anyone may flag the bins of a moment (markFlag: camera health, ...); an unflagged bin is trusted.
import type { DataQualityFlag } from '../core/types.js';

export interface Bin {
  binSeconds: number;
  startMs: number;
  endMs: number;
  /** Observation began or ended inside the interval (start-up, reconfiguration, shutdown). */
  partial: boolean;
  /** Data-quality flags other than 'partial' (which `partial` carries). */
  flags: Set<DataQualityFlag>;
}

export interface BinClockOptions {
  /** IANA zone the bins align to (default UTC). */
  timeZone?: string;
}

export class BinClock {
  private readonly open = new Map<number, Bin>();
  /** No frame since construction or the last flush: the next bins start at the next frame. */
  private fresh = true;
  /** The stream is down: bins continue, flagged, and tick() closes and opens them on the clock. */
  private gap = false;
  /** Flags raised while no bin was open: they go to the next bins opened. */
  private pending = new Set<DataQualityFlag>();
  private readonly zone: ZoneClock | null;

  constructor(
    readonly binSeconds: readonly number[],
    opts: BinClockOptions = {},
  ) {
    for (const b of binSeconds) if (!(Number.isInteger(b) && b >= 1)) throw new RangeError(`binSeconds must be integers ≥ 1, got ${b}`);
    this.zone = opts.timeZone && opts.timeZone !== 'UTC' ? new ZoneClock(opts.timeZone) : null;
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
    const afterGap = this.gap;
    for (const b of this.binSeconds) {
      if (this.open.has(b)) continue;
      const aligned = this.alignedStart(tMs, b);
      const startMs = this.fresh ? Math.max(aligned, Math.floor(tMs)) : aligned;
      const bin = this.newBin(b, startMs, aligned);
      // Frames came back in a bin whose beginning the outage took.
      if (afterGap) bin.flags.add('stream-gap');
      this.open.set(b, bin);
    }
    this.fresh = false;
    this.gap = false;
  }

  /** Close every open bin (flush) at nowMs: a bin still running ends there, as a partial one. */
  closeAll(nowMs: number = Number.POSITIVE_INFINITY): Bin[] {
    const all = [...this.open.values()].map((bin) => {
      const endMs = Math.min(bin.endMs, Math.max(bin.startMs + 1, Math.floor(nowMs)));
      return endMs === bin.endMs ? bin : { ...bin, endMs, partial: true };
    });
    this.open.clear();
    this.fresh = true;
    this.gap = false;
    return all;
  }

  /** Flags the open bins (the ones running at atMs); with none open, the next bins opened. */
  markFlag(flag: DataQualityFlag, atMs: number = Date.now()): void {
    let marked = false;
    for (const bin of this.open.values()) {
      if (atMs >= bin.startMs && atMs < bin.endMs) {
        if (flag === 'partial') bin.partial = true;
        else bin.flags.add(flag);
        marked = true;
      }
    }
    if (!marked && flag !== 'partial') this.pending.add(flag);
  }

  /** The stream is lost at atMs: the open bins keep running, flagged 'stream-gap'. */
  streamGap(atMs: number = Date.now()): void {
    if (this.fresh) return; // nothing observed yet: the first frame starts a partial bin anyway
    this.gap = true;
    this.markFlag('stream-gap', atMs);
  }

  /**
   * Called on the wall clock while frames are absent: during a gap, bins that ended by nowMs close,
   * and the next ones open as gap bins (nothing observed, flagged), so a long outage is reported
   * interval by interval instead of silently.
   */
  tick(nowMs: number): Bin[] {
    if (!this.gap) return [];
    const closed: Bin[] = [];
    for (let guard = 0; guard < 100_000; guard++) {
      const due = this.closeUntil(nowMs);
      if (due.length === 0) break;
      closed.push(...due);
      for (const bin of due) {
        const next = this.newBin(bin.binSeconds, bin.endMs, bin.endMs);
        next.flags.add('stream-gap');
        this.open.set(bin.binSeconds, next);
      }
    }
    return closed.sort((a, b) => a.endMs - b.endMs || a.binSeconds - b.binSeconds);
  }

  inGap(): boolean {
    return this.gap;
  }

  isOpen(): boolean {
    return this.open.size > 0;
  }

  /** Start of the bin of size b that contains tMs. */
  alignedStart(tMs: number, b: number): number {
    const ms = b * 1000;
    return this.zone ? this.zone.floor(tMs, ms) : Math.floor(tMs / ms) * ms;
  }

  private newBin(b: number, startMs: number, aligned: number): Bin {
    const ms = b * 1000;
    const endMs = this.zone ? this.zone.next(aligned, ms) : aligned + ms;
    const bin: Bin = { binSeconds: b, startMs, endMs, partial: startMs !== aligned, flags: new Set(this.pending) };
    this.pending.clear();
    return bin;
  }
}

/** Local-time arithmetic of one IANA zone through Intl (no tz database of our own). */
class ZoneClock {
  private readonly fmt: Intl.DateTimeFormat;
  constructor(readonly timeZone: string) {
    // Throws RangeError for an unknown zone: a typo must not silently mean UTC.
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Local time minus UTC at the instant tMs (ms). */
  offset(tMs: number): number {
    const p: Record<string, number> = {};
    for (const part of this.fmt.formatToParts(new Date(tMs))) if (part.type !== 'literal') p[part.type] = Number(part.value);
    // The formatter's options ask for every one of these parts.
    const { year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = p;
    const local = Date.UTC(year, month - 1, day, hour, minute, second);
    return local - Math.floor(tMs / 1000) * 1000;
  }

  /** Start of the local bin of ms that contains tMs. */
  floor(tMs: number, ms: number): number {
    const off = this.offset(tMs);
    const localStart = Math.floor((tMs + off) / ms) * ms;
    // Across a DST change the boundary has its own offset; take it, but never past tMs.
    const start = localStart - this.offset(localStart - off);
    return start <= tMs ? start : localStart - off;
  }

  /** The boundary after the bin that starts at startMs (23/25 h days stay whole days). */
  next(startMs: number, ms: number): number {
    for (const probe of [startMs + ms, startMs + ms + 3_600_000]) {
      const end = this.floor(probe, ms);
      if (end > startMs) return end;
    }
    return startMs + ms;
  }
}

export function binFields(cameraId: string, bin: Bin) {
  const flags: DataQualityFlag[] = [...(bin.partial ? (['partial'] as const) : []), ...[...bin.flags].sort()];
  return {
    cameraId,
    intervalStart: new Date(bin.startMs).toISOString(),
    intervalEnd: new Date(bin.endMs).toISOString(),
    binSeconds: bin.binSeconds,
    ...(bin.partial ? { partial: true } : {}),
    ...(flags.length ? { flags } : {}),
  };
}
