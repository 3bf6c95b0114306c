// Reading the outbox for aggregate routes (counts, DATEX): time windows and a bounded scan.
import type { CloudEvent } from '../core/types.js';
import type { EventFilter, Outbox } from '../events/outbox.js';

/** Event-time range of a query's from/to. */
export function timeRange(q: { from?: string; to?: string }): Pick<EventFilter, 'fromMs' | 'toMs'> {
  return { ...(q.from ? { fromMs: Date.parse(q.from) } : {}), ...(q.to ? { toMs: Date.parse(q.to) } : {}) };
}

/**
 * Event-time range to scan for intervals overlapping [from, to): an interval event's time is its end,
 * which lies after `from` and at most one bin (plus a DST hour) after `to`.
 */
export function overlapScan(q: { from?: string; to?: string }, maxBinSeconds: number): Pick<EventFilter, 'fromMs' | 'toMs'> {
  return { ...(q.from ? { fromMs: Date.parse(q.from) } : {}), ...(q.to ? { toMs: Date.parse(q.to) + (maxBinSeconds + 3600) * 1000 } : {}) };
}

/** The longest bin an interval can span (at least a day), for overlapScan. */
export function maxBinSeconds(binSeconds: readonly number[]): number {
  return Math.max(86_400, ...binSeconds);
}

/** Reads matching events, at most maxScan of them; truncated says there were more. */
export async function collect(outbox: Pick<Outbox, 'scan'>, filter: EventFilter, maxScan: number): Promise<{ events: CloudEvent[]; truncated: boolean }> {
  const events: CloudEvent[] = [];
  for await (const { event } of outbox.scan(filter)) {
    if (events.length >= maxScan) return { events, truncated: true };
    events.push(event);
  }
  return { events, truncated: false };
}
