// Stored events (paginated query) and the live feed as Server-Sent Events. The feed itself (replay
// from Last-Event-ID, back-pressure, heartbeats) is events/live-feed.ts; this plugin caps the number
// of open streams and ties each one to its HTTP response.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorBody } from '../../core/errors.js';
import { eventTypeOf, type CloudEvent, type EventType } from '../../core/types.js';
import { LiveFeed, resumePoint } from '../../events/live-feed.js';
import { InvalidCursorError, type Outbox } from '../../events/outbox.js';
import { timeRange } from '../outbox-reads.js';
import { ErrorBody, EventsPage, EventsQuery, SseStream, StreamQuery } from '../schemas.js';

export interface EventRoutesOptions {
  outbox: Pick<Outbox, 'query' | 'lastSeq' | 'seqOfId' | 'readBatch' | 'onAppend'>;
  /** SSE comment heartbeat period (default 15 s). */
  heartbeatMs?: number;
  /** Open live streams at most; more are answered 503 (each holds a socket, a listener and a timer). */
  maxStreams?: number;
}

const TAGS = ['events'];
/** The internal type of a type filter (`count.interval` or `org.roadside.count.interval`). */
const typeFilter = (t: unknown): EventType | undefined => (typeof t === 'string' ? eventTypeOf({ type: t }) : undefined);

export const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app, o) => {
  const { outbox } = o;
  const maxStreams = o.maxStreams ?? 32;
  const feeds = new Set<LiveFeed>();

  // SSE responses are hijacked and never end on their own: end them so app.close() does not hang.
  app.addHook('preClose', async () => {
    for (const feed of [...feeds]) feed.close();
  });

  app.get(
    '/api/v1/events',
    { config: { access: 'read' }, schema: { tags: TAGS, summary: 'Stored events (CloudEvents), filtered by camera, type and time, paginated', querystring: EventsQuery, response: { 200: EventsPage, 400: ErrorBody } } },
    async (req, reply) => {
      const q = req.query;
      try {
        return await outbox.query({ camera: q.camera, type: typeFilter(q.type), ...timeRange(q), limit: q.limit, cursor: q.cursor });
      } catch (err) {
        if (err instanceof InvalidCursorError) return reply.code(400).send(errorBody('ROADSIDE_ERR_CURSOR_INVALID', err.message, [{ path: '/cursor', message: err.message }]));
        throw err;
      }
    },
  );

  app.get(
    '/api/v1/events/stream',
    {
      config: { access: 'read' },
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
      if (feeds.size >= maxStreams) {
        return reply.code(503).header('retry-after', '10').send(errorBody('ROADSIDE_ERR_BUSY', `too many live streams open (${maxStreams})`));
      }
      const header = req.headers['last-event-id'];
      const { afterSeq, unknownId } = await resumePoint(outbox, (Array.isArray(header) ? header[0] : header) ?? q.lastEventId);
      const wanted = typeFilter(q.type);
      const match = (e: CloudEvent) => (q.camera === undefined || e.subject === q.camera) && (wanted === undefined || eventTypeOf(e) === wanted);

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const feed = new LiveFeed(outbox, res, afterSeq, { match, ...(o.heartbeatMs === undefined ? {} : { heartbeatMs: o.heartbeatMs }) });
      feeds.add(feed);
      feed.onClose(() => feeds.delete(feed));
      const close = () => feed.close();
      req.raw.on('close', close);
      res.on('error', close);
      try {
        await feed.replay(unknownId);
      } catch (err) {
        req.log.error({ err: (err as Error).message }, 'event stream replay failed');
        feed.close();
      }
    },
  );
};
