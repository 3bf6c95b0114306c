// Which count and speed intervals a DATEX MeasuredDataPublication carries. Without a window: the
// newest interval of each measurement site (a counting line, or a camera's speed site); with one:
// every interval that overlaps it. Either way one bin size only (asked for, or the smallest present),
// since a site publishes one measurement period per value index. Pure: no outbox, no clock.
import { isEventOf, isIntervalEvent, type CloudEventOf } from '../core/event-data.js';
import type { CloudEvent } from '../core/types.js';
import { overlapsWindow } from './counts.js';

export type IntervalEvent = CloudEventOf<'count.interval'> | CloudEventOf<'speed.interval'>;

export interface MeasuredDataSelection {
  /** Bin size to publish (default: the smallest among the events). */
  binSeconds?: number;
  /** Window [fromMs, toMs): absent on both sides means the latest interval per site. */
  fromMs?: number;
  toMs?: number;
}

/** The site an interval measures: a counting line of a camera, or the camera's speed site. */
export function measurementSiteKey(e: IntervalEvent): string {
  return isEventOf(e, 'count.interval') ? `count|${e.data.cameraId}|${e.data.lineId}` : `speed|${e.data.cameraId}`;
}

/** The newest interval of each site (by event time, the later one on a tie), oldest first. */
export function latestPerSite(events: readonly IntervalEvent[]): IntervalEvent[] {
  const last = new Map<string, IntervalEvent>();
  for (const e of events) {
    const key = measurementSiteKey(e);
    const cur = last.get(key);
    if (!cur || e.time >= cur.time) last.set(key, e);
  }
  return [...last.values()].sort((a, b) => a.time.localeCompare(b.time));
}

/** The interval events of one bin size to publish, from any events read from the outbox. */
export function selectMeasuredData(events: readonly CloudEvent[], q: MeasuredDataSelection): IntervalEvent[] {
  const latestOnly = q.fromMs === undefined && q.toMs === undefined;
  const intervals = events.filter(isIntervalEvent).filter((e) => latestOnly || overlapsWindow(e.data, q.fromMs, q.toMs));
  let bin = q.binSeconds;
  for (const e of intervals) if (q.binSeconds === undefined && (bin === undefined || e.data.binSeconds < bin)) bin = e.data.binSeconds;
  const ofBin = intervals.filter((e) => e.data.binSeconds === bin);
  return latestOnly ? latestPerSite(ofBin) : ofBin;
}
