// The lane data query (GET /api/v1/lanes): lane.interval payloads from the outbox, filtered by
// camera, lane and window (overlap rule, like the counts), newest last; `latest` keeps only the
// newest interval of each lane. Pure: the route feeds it the scanned events.
import { Type, type Static } from '@sinclair/typebox';
import { LaneIntervalData, isEventOf } from '../core/event-data.js';
import type { CloudEvent } from '../core/types.js';

const Iso = Type.String({ format: 'date-time', description: 'ISO 8601 date-time' });

export const LanesQuery = Type.Object(
  {
    camera: Type.Optional(Type.String({ maxLength: 64 })),
    lane: Type.Optional(Type.String({ maxLength: 64 })),
    from: Type.Optional({ ...Iso, description: 'intervals that end after from (overlap rule)' }),
    to: Type.Optional({ ...Iso, description: 'intervals that start before to (overlap rule)' }),
    latest: Type.Boolean({ default: false, description: 'only the newest interval of each lane' }),
    limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000, description: 'at most this many intervals (the newest)' }),
  },
  { additionalProperties: false },
);
export type LanesQuery = Static<typeof LanesQuery>;

export const LanesBody = Type.Object({
  from: Type.Union([Type.String(), Type.Null()]),
  to: Type.Union([Type.String(), Type.Null()]),
  /** More intervals matched than `limit` (the oldest were left out) or the scan stopped early. */
  truncated: Type.Boolean(),
  intervals: Type.Array(LaneIntervalData),
});
export type LanesBody = Static<typeof LanesBody>;

export class LaneIntervalSelector {
  private readonly rows: LaneIntervalData[] = [];
  private readonly fromMs: number | null;
  private readonly toMs: number | null;

  constructor(private readonly q: LanesQuery) {
    this.fromMs = q.from ? Date.parse(q.from) : null;
    this.toMs = q.to ? Date.parse(q.to) : null;
  }

  add(e: CloudEvent): void {
    if (!isEventOf(e, 'lane.interval')) return;
    const d = e.data;
    if (this.q.camera !== undefined && d.cameraId !== this.q.camera) return;
    if (this.q.lane !== undefined && d.laneId !== this.q.lane) return;
    if (this.fromMs !== null && Date.parse(d.intervalEnd) <= this.fromMs) return;
    if (this.toMs !== null && Date.parse(d.intervalStart) >= this.toMs) return;
    this.rows.push(d);
  }

  result(scanTruncated = false): LanesBody {
    let rows = [...this.rows].sort((a, b) => a.intervalEnd.localeCompare(b.intervalEnd) || a.cameraId.localeCompare(b.cameraId) || a.laneId.localeCompare(b.laneId));
    if (this.q.latest) {
      const last = new Map<string, LaneIntervalData>();
      for (const d of rows) last.set(`${d.cameraId}|${d.laneId}`, d);
      rows = [...last.values()];
    }
    const truncated = scanTruncated || rows.length > this.q.limit;
    return { from: this.q.from ?? null, to: this.q.to ?? null, truncated, intervals: rows.slice(-this.q.limit) };
  }
}
