// Lane data like loop detectors (lane.interval events in the outbox): per camera, lane and interval,
// volume by class, loop occupancy, speed, headway, gap, length classes and queue length.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LaneIntervalSelector, LanesBody, LanesQuery } from '../../events/lanes-query.js';
import type { Outbox } from '../../events/outbox.js';
import { ErrorBody } from '../schemas.js';

export interface LaneRoutesOptions {
  outbox: Pick<Outbox, 'scan'>;
  /** Most events one request reads; beyond it the answer says truncated. */
  maxScan: number;
}

const DAY_MS = 86_400_000;
/** An interval event's time is its end: at most the longest lane interval (60 s) plus a DST hour after `to`. */
const LATEST_END_MS = 3_660_000;

export const laneRoutes: FastifyPluginAsyncTypebox<LaneRoutesOptions> = async (app, o) => {
  app.get(
    '/api/v1/lanes',
    {
      config: { access: 'read' },
      schema: {
        tags: ['events'],
        summary: 'Lane data like loop detectors (lane.interval events) per camera, lane and interval; a window selects the intervals that overlap it, latest=true the newest of each lane (last 24 h)',
        querystring: LanesQuery,
        response: { 200: LanesBody, 400: ErrorBody },
      },
    },
    async (req) => {
      const q = req.query;
      const sel = new LaneIntervalSelector(q);
      const filter = {
        camera: q.camera,
        type: 'lane.interval' as const,
        ...(q.from ? { fromMs: Date.parse(q.from) } : q.latest ? { fromMs: Date.now() - DAY_MS } : {}),
        ...(q.to ? { toMs: Date.parse(q.to) + LATEST_END_MS } : {}),
      };
      let scanned = 0;
      let truncated = false;
      for await (const { event } of o.outbox.scan(filter)) {
        if (++scanned > o.maxScan) {
          truncated = true;
          break;
        }
        sel.add(event);
      }
      return sel.result(truncated);
    },
  );
};
