// Read API over the outbox: event queries, a live Server-Sent Events stream with resume, count
// aggregates, event JSON Schemas and DATEX II export. Every route is 'read' access.
import { isEventOf, isIntervalEvent } from '../core/event-data.js';
import { errorBody } from '../core/errors.js';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPES, cloudEventType, eventTypeOf, type CloudEvent, type CloudEventType, type EventType } from '../core/types.js';
import { eventJsonSchemas } from '../events/cloudevent.js';
import { CountAggregator, overlapsWindow } from '../events/counts.js';
import { latestLaneIntervals, siteIds, siteTableVersion, toMeasuredData, toMeasurementSiteTable, toSituations, type DatexLocation, type SiteSource } from '../events/datex.js';
import { InvalidCursorError, type EventFilter, type Outbox, type StoredEvent } from '../events/outbox.js';
import { CloudEventRef, DatexPayloadRef, ErrorBody, JsonSchemaDoc, SHARED_SCHEMAS } from './schemas.js';

export interface EventsRoutesDeps {
  outbox: Outbox;
  /** SSE comment heartbeat period (default 15 s). */
  heartbeatMs?: number;
  /** Most events one aggregate request (counts, DATEX) reads; beyond it the answer says truncated. */
  maxScan?: number;
  /** Cameras and their counting lines, for the DATEX measurement site table (default: from the events). */
  sites?: () => SiteSource[];
  /** Bin sizes in force (site table periods; how far past `to` an overlapping interval can end). */
  binSeconds?: () => number[];
  /** DATEX publication creator, language and locations (config `datex`, camera/line `location`). */
  datex?: () => { country?: string; nationalIdentifier?: string; lang?: string; locate?: (cameraId: string, lineId: string | null) => DatexLocation | undefined };
  /** Base of the absolute schema ids (config events.schemaBaseUrl). */
  schemaBaseUrl?: string;
  /** Open live streams at most; more are answered 503 (each holds a socket, a listener and a timer). */
  maxStreams?: number;
}

/** A type filter: the internal name or the CloudEvents type (`count.interval` or `org.roadside.count.interval`). */
const EventTypeSchema = Type.Unsafe<EventType | CloudEventType>({ type: 'string', enum: [...EVENT_TYPES, ...EVENT_TYPES.map(cloudEventType)] });
const typeFilter = (t: string | undefined): EventType | undefined => (t === undefined ? undefined : eventTypeOf({ type: t }));
const Iso = Type.String({ format: 'date-time', description: 'ISO 8601 date-time' });

const EventsQuery = Type.Object(
  {
    camera: Type.Optional(Type.String({ maxLength: 64 })),
    type: Type.Optional(EventTypeSchema),
    from: Type.Optional({ ...Iso, description: 'event time ≥ from' }),
    to: Type.Optional({ ...Iso, description: 'event time < to' }),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    cursor: Type.Optional(Type.String({ maxLength: 1024, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
const EventsPage = Type.Object({ events: Type.Array(CloudEventRef), nextCursor: Type.Union([Type.String(), Type.Null()]) });

const StreamQuery = Type.Object(
  {
    camera: Type.Optional(Type.String({ maxLength: 64 })),
    type: Type.Optional(EventTypeSchema),
    lastEventId: Type.Optional(Type.String({ maxLength: 64, description: 'like the Last-Event-ID header (for clients that cannot set it)' })),
  },
  { additionalProperties: false },
);

const CountsQuery = Type.Object(
  {
    camera: Type.Optional(Type.String({ maxLength: 64 })),
    line: Type.Optional(Type.String({ maxLength: 64 })),
    direction: Type.Optional(Type.Union([Type.Literal('forward'), Type.Literal('backward')])),
    cls: Type.Optional(Type.String({ maxLength: 32 })),
    binSeconds: Type.Optional(Type.Integer({ minimum: 1, description: 'bin size; default the smallest stored' })),
    from: Type.Optional({ ...Iso, description: 'intervals that end after from (overlap rule)' }),
    to: Type.Optional({ ...Iso, description: 'intervals that start before to (overlap rule)' }),
    group: Type.Union([Type.Literal('total'), Type.Literal('interval')], { default: 'total' }),
  },
  { additionalProperties: false },
);
const CountsBody = Type.Object({
  from: Type.Union([Type.String(), Type.Null()]),
  to: Type.Union([Type.String(), Type.Null()]),
  binSeconds: Type.Union([Type.Integer(), Type.Null()]),
  intervals: Type.Integer(),
  flaggedIntervals: Type.Integer({ description: 'intervals with data-quality flags (gap, partial, camera fault)' }),
  coveredFrom: Type.Union([Type.String(), Type.Null()], { description: 'earliest start of the selected intervals' }),
  coveredTo: Type.Union([Type.String(), Type.Null()], { description: 'latest end of the selected intervals' }),
  truncated: Type.Boolean(),
  rows: Type.Array(
    Type.Object({
      cameraId: Type.String(),
      lineId: Type.String(),
      direction: Type.String(),
      cls: Type.String(),
      count: Type.Integer(),
      intervalStart: Type.Optional(Type.String()),
      intervalEnd: Type.Optional(Type.String()),
      flags: Type.Optional(Type.Array(Type.String())),
    }),
  ),
});

const DatexMeasuredQuery = Type.Object(
  {
    camera: Type.Optional(Type.String({ maxLength: 64 })),
    binSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
    from: Type.Optional({ ...Iso, description: 'intervals that end after from (overlap rule)' }),
    to: Type.Optional({ ...Iso, description: 'intervals that start before to (overlap rule)' }),
  },
  { additionalProperties: false },
);
const DatexSituationsQuery = Type.Object(
  {
    camera: Type.Optional(Type.String({ maxLength: 64 })),
    active: Type.Boolean({ default: true, description: 'only incidents still open' }),
    from: Type.Optional({ ...Iso, description: 'default: 24 h ago' }),
    to: Type.Optional(Iso),
  },
  { additionalProperties: false },
);

const SchemaList = Type.Object({ types: Type.Array(Type.String()), schemas: Type.Record(Type.String(), JsonSchemaDoc) });
const SseStream = {
  description: 'text/event-stream: `id: <event id>`, `event: <type>`, `data: <CloudEvent JSON>`; comment lines are heartbeats',
  content: { 'text/event-stream': { schema: Type.String() } },
};
const read = { access: 'read' as const };
const TAGS = ['events'];

function range(q: { from?: string; to?: string }): Pick<EventFilter, 'fromMs' | 'toMs'> {
  return { ...(q.from ? { fromMs: Date.parse(q.from) } : {}), ...(q.to ? { toMs: Date.parse(q.to) } : {}) };
}

/**
 * Event-time range to scan for intervals overlapping [from, to): an interval event's time is its end,
 * which lies after `from` and at most one bin (plus a DST hour) after `to`.
 */
function overlapScan(q: { from?: string; to?: string }, maxBinSeconds: number): Pick<EventFilter, 'fromMs' | 'toMs'> {
  return { ...(q.from ? { fromMs: Date.parse(q.from) } : {}), ...(q.to ? { toMs: Date.parse(q.to) + (maxBinSeconds + 3600) * 1000 } : {}) };
}

export function eventsRoutes(deps: EventsRoutesDeps): FastifyPluginAsync {
  const { outbox } = deps;
  const maxScan = deps.maxScan ?? 100_000;
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const maxStreams = deps.maxStreams ?? 32;
  const schemas = eventJsonSchemas(deps.schemaBaseUrl);
  const streams = new Set<() => void>();
  const maxBin = () => Math.max(86_400, ...(deps.binSeconds?.() ?? []));
  const datexOpts = () => ({ applianceId: outbox.applianceId, ...(deps.datex?.() ?? {}) });

  /** Sites from the config, or (without one) from the count events of the last day. */
  async function siteSources(): Promise<SiteSource[]> {
    const configured = deps.sites?.();
    if (configured) return configured;
    const byCamera = new Map<string, Map<string, { lineId: string }>>();
    for await (const { event } of outbox.scan({ type: 'count.interval', fromMs: Date.now() - 86_400_000 })) {
      if (!isEventOf(event, 'count.interval')) continue;
      const d = event.data;
      const lines = byCamera.get(d.cameraId) ?? new Map<string, { lineId: string }>();
      lines.set(d.lineId, { lineId: d.lineId });
      byCamera.set(d.cameraId, lines);
      if (byCamera.size > 1000) break;
    }
    return [...byCamera].map(([cameraId, lines]) => ({ cameraId, lines: [...lines.values()] }));
  }

  /** Reads matching events, at most maxScan of them. */
  async function collect(filter: EventFilter): Promise<{ events: CloudEvent[]; truncated: boolean }> {
    const events: CloudEvent[] = [];
    for await (const { event } of outbox.scan(filter)) {
      if (events.length >= maxScan) return { events, truncated: true };
      events.push(event);
    }
    return { events, truncated: false };
  }

  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    // The routes $ref the shared schemas; buildApi registers them, a bare fastify (tests, embedding) gets them here.
    for (const schema of SHARED_SCHEMAS) if (!app.getSchema(schema.$id as string)) app.addSchema(schema);

    // SSE responses are hijacked and never end on their own: end them so app.close() does not hang.
    app.addHook('preClose', async () => {
      for (const end of [...streams]) end();
    });

    app.get(
      '/api/v1/events',
      { config: read, schema: { tags: TAGS, summary: 'Stored events (CloudEvents), filtered by camera, type and time, paginated', querystring: EventsQuery, response: { 200: EventsPage, 400: ErrorBody } } },
      async (req, reply) => {
        const q = req.query;
        try {
          return await outbox.query({ camera: q.camera, type: typeFilter(q.type as string | undefined), ...range(q), limit: q.limit, cursor: q.cursor });
        } catch (err) {
          if (err instanceof InvalidCursorError) return reply.code(400).send(errorBody('ROADSIDE_ERR_CURSOR_INVALID', err.message, [{ path: '/cursor', message: err.message }]));
          throw err;
        }
      },
    );

    app.get(
      '/api/v1/events/stream',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'Live events as Server-Sent Events; resume with Last-Event-ID (replays from the outbox, then live)',
          querystring: StreamQuery,
          produces: ['text/event-stream'],
          response: { 200: SseStream, 503: ErrorBody },
        },
      },
      async (req, reply) => {
        const q = req.query;
        if (streams.size >= maxStreams) {
          return reply.code(503).header('retry-after', '10').send(errorBody('ROADSIDE_ERR_BUSY', `too many live streams open (${maxStreams})`));
        }
        const header = req.headers['last-event-id'];
        const lastId = (Array.isArray(header) ? header[0] : header) ?? q.lastEventId;
        let after = outbox.lastSeq;
        let unknownId = false;
        if (lastId) {
          const seq = await outbox.seqOfId(lastId);
          if (seq === null) unknownId = true;
          else after = seq;
        }
        const wanted = typeFilter(q.type as string | undefined);
        const match = (e: CloudEvent) => (q.camera === undefined || e.subject === q.camera) && (wanted === undefined || eventTypeOf(e) === wanted);

        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        res.write(`: roadside events\nretry: 3000\n\n`);
        if (unknownId) res.write(`: last-event-id not in the outbox (expired or unknown): live events only\n\n`);

        let closed = false;
        let sent = after;
        const send = (s: StoredEvent): boolean => {
          if (closed || s.seq <= sent) return true;
          sent = s.seq;
          if (!match(s.event)) return true;
          return res.write(`id: ${s.event.id}\nevent: ${s.event.type}\ndata: ${JSON.stringify(s.event)}\n\n`);
        };
        let replaying = true;
        const buffered: StoredEvent[] = [];
        const unsubscribe = outbox.onAppend((items) => {
          if (closed) return;
          if (replaying) {
            buffered.push(...items);
            return;
          }
          for (const s of items) send(s);
          // A client that does not read: drop it rather than buffer without bound; it resumes by id.
          if (res.writableLength > 8 * 1024 * 1024) end();
        });
        const heartbeat = setInterval(() => res.write(`: heartbeat\n\n`), heartbeatMs);
        const end = () => {
          if (closed) return;
          closed = true;
          clearInterval(heartbeat);
          unsubscribe();
          streams.delete(end);
          res.end();
        };
        streams.add(end);
        req.raw.on('close', end);
        res.on('error', end);

        // Replay what the client missed, page by page, honouring back-pressure.
        try {
          let cursor = after;
          while (!closed) {
            const { items, scannedTo } = await outbox.readBatch(cursor, 500);
            if (scannedTo === cursor) break;
            let ok = true;
            for (const s of items) ok = send(s) && ok;
            cursor = scannedTo;
            if (!ok && !closed) await new Promise<void>((r) => res.once('drain', () => r()).once('close', () => r()));
          }
        } catch (err) {
          req.log.error({ err: (err as Error).message }, 'event stream replay failed');
          end();
          return;
        }
        replaying = false;
        for (const s of buffered.splice(0)) send(s);
      },
    );

    app.get(
      '/api/v1/counts',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'Vehicle counts from count.interval events, per camera, line, direction and class (optionally per interval); a window selects the intervals that overlap it',
          querystring: CountsQuery,
          response: { 200: CountsBody, 400: ErrorBody },
        },
      },
      async (req) => {
        const q = req.query;
        const { fromMs, toMs } = range(q);
        const agg = new CountAggregator({ line: q.line, direction: q.direction, cls: q.cls, binSeconds: q.binSeconds, perInterval: q.group === 'interval', fromMs, toMs });
        let scanned = 0;
        let truncated = false;
        for await (const { event } of outbox.scan({ camera: q.camera, type: 'count.interval', ...overlapScan(q, maxBin()) })) {
          if (++scanned > maxScan) {
            truncated = true;
            break;
          }
          agg.add(event);
        }
        return { from: q.from ?? null, to: q.to ?? null, truncated, ...agg.result() };
      },
    );

    app.get(
      '/api/v1/schemas/events',
      { config: read, schema: { tags: TAGS, summary: 'JSON Schema of every event type (CloudEvents envelope + payload)', response: { 200: SchemaList } } },
      async () => ({ types: [...EVENT_TYPES], schemas }),
    );

    app.get(
      '/api/v1/schemas/events/:type',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'JSON Schema of one event type (internal name, e.g. count.interval, or the CloudEvents type org.roadside.count.interval)',
          params: Type.Object({ type: Type.String({ maxLength: 64 }) }),
          response: { 200: { description: 'JSON Schema document', content: { 'application/schema+json': { schema: JsonSchemaDoc } } }, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const s = (schemas as Record<string, unknown>)[eventTypeOf({ type: req.params.type })];
        if (!s) return reply.code(404).send(errorBody('ROADSIDE_ERR_NOT_FOUND', `no event type '${req.params.type}'`, [{ path: '/type', message: `one of ${EVENT_TYPES.join(', ')}` }]));
        return reply.header('content-type', 'application/schema+json').send(JSON.stringify(s));
      },
    );

    app.get(
      '/api/v1/datex/measured-data',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary:
            'DATEX II v3 MeasuredDataPublication (D2Payload JSON): flows per line and direction, speeds per camera; without from/to the latest interval per site, with them every interval that overlaps [from, to)',
          querystring: DatexMeasuredQuery,
          response: { 200: DatexPayloadRef, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const q = req.query as Static<typeof DatexMeasuredQuery>;
        const latestOnly = !q.from && !q.to;
        // Latest-only: look back one day; the newest interval per site and bin size wins.
        const filter = latestOnly ? { fromMs: Date.now() - 86_400_000 } : overlapScan(q, maxBin());
        const counts = await collect({ camera: q.camera, type: q.camera ? undefined : 'count.interval', ...filter });
        const speeds = q.camera ? { events: [] as CloudEvent[] } : await collect({ type: 'speed.interval', ...filter });
        const window = range(q);
        let events = [...counts.events, ...speeds.events].filter(isIntervalEvent).filter((e) => latestOnly || overlapsWindow(e.data, window.fromMs, window.toMs));
        const data = (e: (typeof events)[number]) => e.data;
        const bin = q.binSeconds ?? (events.length ? Math.min(...events.map((e) => data(e).binSeconds)) : undefined);
        events = events.filter((e) => data(e).binSeconds === bin);
        if (latestOnly) {
          const last = new Map<string, (typeof events)[number]>();
          for (const e of events) {
            const key = isEventOf(e, 'count.interval') ? `count|${e.data.cameraId}|${e.data.lineId}` : `speed|${data(e).cameraId}`;
            const cur = last.get(key);
            if (!cur || e.time >= cur.time) last.set(key, e);
          }
          events = [...last.values()].sort((a, b) => a.time.localeCompare(b.time));
        }
        // Lane data has its own interval (20/30/60 s): selected by binSeconds only when asked for.
        const laneScan = q.camera ? counts : await collect({ type: 'lane.interval', ...filter });
        const lanes = latestLaneIntervals(
          laneScan.events.filter((e) => isEventOf(e, 'lane.interval')).filter((e) => (q.binSeconds === undefined || e.data.binSeconds === q.binSeconds) && (latestOnly || overlapsWindow(e.data, window.fromMs, window.toMs))),
          latestOnly,
        );
        const all = await siteSources();
        const sources = all.filter((s) => q.camera === undefined || s.cameraId === q.camera);
        // v3 needs at least one SiteMeasurements; with no site at all there is nothing to publish.
        if (events.length === 0 && lanes.length === 0 && sources.length === 0) return reply.code(404).send(errorBody('ROADSIDE_ERR_NOT_FOUND', 'no measurement site and no measured data'));
        const opts = datexOpts();
        return toMeasuredData([...events, ...lanes], { ...opts, emptySites: siteIds(outbox.applianceId, sources), siteTableVersion: siteTableVersion(all, deps.binSeconds?.() ?? [60], opts) });
      },
    );

    app.get(
      '/api/v1/datex/measurement-sites',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'DATEX II v3 MeasurementSiteTablePublication (D2Payload JSON): one site per counting line and direction, one speed site per camera',
          response: { 200: DatexPayloadRef, 404: ErrorBody },
        },
      },
      async (_req, reply) => {
        const sources = await siteSources();
        if (sources.length === 0) return reply.code(404).send(errorBody('ROADSIDE_ERR_NOT_FOUND', 'no measurement site: no camera configured'));
        return toMeasurementSiteTable(sources, deps.binSeconds?.() ?? [60], datexOpts());
      },
    );

    app.get(
      '/api/v1/datex/situations',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'DATEX II v3 SituationPublication (D2Payload JSON): incidents as situation records',
          querystring: DatexSituationsQuery,
          response: { 200: DatexPayloadRef },
        },
      },
      async (req) => {
        const q = req.query as Static<typeof DatexSituationsQuery>;
        const filter = { camera: q.camera, fromMs: q.from ? Date.parse(q.from) : Date.now() - 86_400_000, ...(q.to ? { toMs: Date.parse(q.to) } : {}) };
        const isIncident = (e: CloudEvent) => eventTypeOf(e).startsWith('incident.');
        const all: CloudEvent[] = [];
        if (q.camera) all.push(...(await collect(filter)).events.filter(isIncident));
        else for (const type of ['incident.opened', 'incident.updated', 'incident.closed'] as const) all.push(...(await collect({ ...filter, type })).events);
        return toSituations(all, { ...datexOpts(), activeOnly: q.active });
      },
    );
  };
}
