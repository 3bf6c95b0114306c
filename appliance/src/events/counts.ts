// Aggregates of count.interval events: totals per camera, line, direction and class over a time range,
// optionally per interval. One bin size at a time, so 60 s and 900 s bins are never added together.
// Window rule (overlap): an interval belongs to [from, to) when it overlaps it, i.e.
// intervalStart < to and intervalEnd > from. Intervals are whole records, never pro-rated, so the
// answer says which span its intervals really cover (coveredFrom/coveredTo) and how many of them
// carry data-quality flags (a gap, a partial interval, a camera fault).
import { isEventOf } from '../core/event-data.js';
import type { CloudEvent, DataQualityFlag } from '../core/types.js';

/** The overlap rule of query windows (ms since epoch; either bound may be open). */
export function overlapsWindow(d: { intervalStart: string; intervalEnd: string }, fromMs?: number, toMs?: number): boolean {
  if (toMs !== undefined && !(Date.parse(d.intervalStart) < toMs)) return false;
  if (fromMs !== undefined && !(Date.parse(d.intervalEnd) > fromMs)) return false;
  return true;
}

export interface CountsFilter {
  line?: string;
  direction?: 'forward' | 'backward';
  cls?: string;
  /** Bin size to use; default: the smallest one found. */
  binSeconds?: number;
  perInterval?: boolean;
  /** Window [fromMs, toMs): intervals that overlap it (see overlapsWindow). */
  fromMs?: number;
  toMs?: number;
}

export interface CountRow {
  cameraId: string;
  lineId: string;
  direction: 'forward' | 'backward';
  cls: string;
  count: number;
  /** Only with perInterval. */
  intervalStart?: string;
  intervalEnd?: string;
  /** Only with perInterval, and only when the interval has any (absent = complete and trusted). */
  flags?: DataQualityFlag[];
}

export interface CountsResult {
  binSeconds: number | null;
  /** Intervals (count.interval events) that went into the rows. */
  intervals: number;
  /** Of those, intervals with data-quality flags: their counts are not the whole story. */
  flaggedIntervals: number;
  /** Span the selected intervals really cover (earliest start, latest end); null without intervals. */
  coveredFrom: string | null;
  coveredTo: string | null;
  rows: CountRow[];
}

interface BinAcc {
  intervals: number;
  flagged: number;
  from: string | null;
  to: string | null;
  rows: Map<string, CountRow>;
}

/** Streaming accumulator: add() events one by one (bounded memory: one row per group), then result(). */
export class CountAggregator {
  private readonly byBin = new Map<number, BinAcc>();

  constructor(private readonly f: CountsFilter) {}

  add(e: CloudEvent): void {
    const f = this.f;
    if (!isEventOf(e, 'count.interval')) return;
    const d = e.data;
    if (f.binSeconds !== undefined && d.binSeconds !== f.binSeconds) return;
    if (f.line !== undefined && d.lineId !== f.line) return;
    if (!overlapsWindow(d, f.fromMs, f.toMs)) return;
    let acc = this.byBin.get(d.binSeconds);
    if (!acc) this.byBin.set(d.binSeconds, (acc = { intervals: 0, flagged: 0, from: null, to: null, rows: new Map() }));
    acc.intervals++;
    const flags = d.flags ?? (d.partial ? (['partial'] as DataQualityFlag[]) : []);
    if (flags.length) acc.flagged++;
    if (acc.from === null || d.intervalStart < acc.from) acc.from = d.intervalStart;
    if (acc.to === null || d.intervalEnd > acc.to) acc.to = d.intervalEnd;
    for (const c of d.counts) {
      if (f.direction !== undefined && c.direction !== f.direction) continue;
      if (f.cls !== undefined && c.cls !== f.cls) continue;
      const key = [d.cameraId, d.lineId, c.direction, c.cls, f.perInterval ? d.intervalStart : ''].join('\u0000');
      const row = acc.rows.get(key);
      if (row) row.count += c.count;
      else
        acc.rows.set(key, {
          cameraId: d.cameraId,
          lineId: d.lineId,
          direction: c.direction,
          cls: c.cls,
          count: c.count,
          ...(f.perInterval ? { intervalStart: d.intervalStart, intervalEnd: d.intervalEnd, ...(flags.length ? { flags } : {}) } : {}),
        });
    }
  }

  result(): CountsResult {
    if (this.byBin.size === 0) return { binSeconds: this.f.binSeconds ?? null, intervals: 0, flaggedIntervals: 0, coveredFrom: null, coveredTo: null, rows: [] };
    const bin = this.f.binSeconds ?? Math.min(...this.byBin.keys());
    const acc = this.byBin.get(bin)!;
    const rows = [...acc.rows.values()].sort(
      (a, b) =>
        a.cameraId.localeCompare(b.cameraId) ||
        a.lineId.localeCompare(b.lineId) ||
        (a.intervalStart ?? '').localeCompare(b.intervalStart ?? '') ||
        a.direction.localeCompare(b.direction) ||
        a.cls.localeCompare(b.cls),
    );
    return { binSeconds: bin, intervals: acc.intervals, flaggedIntervals: acc.flagged, coveredFrom: acc.from, coveredTo: acc.to, rows };
  }
}

export function aggregateCounts(events: Iterable<CloudEvent>, f: CountsFilter): CountsResult {
  const agg = new CountAggregator(f);
  for (const e of events) agg.add(e);
  return agg.result();
}
