// Aggregates of count.interval events: totals per camera, line, direction and class over a time range,
// optionally per interval. One bin size at a time, so 60 s and 900 s bins are never added together.
import type { CountIntervalData } from '../core/event-data.js';
import type { CloudEvent } from '../core/types.js';

export interface CountsFilter {
  line?: string;
  direction?: 'forward' | 'backward';
  cls?: string;
  /** Bin size to use; default: the smallest one found. */
  binSeconds?: number;
  perInterval?: boolean;
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
}

export interface CountsResult {
  binSeconds: number | null;
  /** Intervals (count.interval events) that went into the rows. */
  intervals: number;
  rows: CountRow[];
}

/** Streaming accumulator: add() events one by one (bounded memory: one row per group), then result(). */
export class CountAggregator {
  private readonly byBin = new Map<number, { intervals: number; rows: Map<string, CountRow> }>();

  constructor(private readonly f: CountsFilter) {}

  add(e: CloudEvent): void {
    const f = this.f;
    if (e.type !== 'count.interval') return;
    const d = e.data as CountIntervalData;
    if (f.binSeconds !== undefined && d.binSeconds !== f.binSeconds) return;
    if (f.line !== undefined && d.lineId !== f.line) return;
    let acc = this.byBin.get(d.binSeconds);
    if (!acc) this.byBin.set(d.binSeconds, (acc = { intervals: 0, rows: new Map() }));
    acc.intervals++;
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
          ...(f.perInterval ? { intervalStart: d.intervalStart, intervalEnd: d.intervalEnd } : {}),
        });
    }
  }

  result(): CountsResult {
    if (this.byBin.size === 0) return { binSeconds: this.f.binSeconds ?? null, intervals: 0, rows: [] };
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
    return { binSeconds: bin, intervals: acc.intervals, rows };
  }
}

export function aggregateCounts(events: Iterable<CloudEvent>, f: CountsFilter): CountsResult {
  const agg = new CountAggregator(f);
  for (const e of events) agg.add(e);
  return agg.result();
}
