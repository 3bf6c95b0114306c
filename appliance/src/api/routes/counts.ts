// Vehicle counts aggregated from the count.interval events in the outbox.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CountAggregator } from '../../events/counts.js';
import type { Outbox } from '../../events/outbox.js';
import { maxBinSeconds, overlapScan, timeRange } from '../outbox-reads.js';
import { CountsBody, CountsQuery, ErrorBody } from '../schemas.js';

export interface CountRoutesOptions {
  outbox: Pick<Outbox, 'scan'>;
  /** Bin sizes in force (how far past `to` an overlapping interval can end). */
  binSeconds: () => readonly number[];
  /** Most events one request reads; beyond it the answer says truncated. */
  maxScan: number;
}

export const countRoutes: FastifyPluginAsyncTypebox<CountRoutesOptions> = async (app, o) => {
  app.get(
    '/api/v1/counts',
    {
      config: { access: 'read' },
      schema: {
        tags: ['events'],
        summary: 'Vehicle counts from count.interval events, per camera, line, direction and class (optionally per interval); a window selects the intervals that overlap it',
        querystring: CountsQuery,
        response: { 200: CountsBody, 400: ErrorBody },
      },
    },
    async (req) => {
      const q = req.query;
      const { fromMs, toMs } = timeRange(q);
      const agg = new CountAggregator({ line: q.line, direction: q.direction, cls: q.cls, binSeconds: q.binSeconds, perInterval: q.group === 'interval', fromMs, toMs });
      let scanned = 0;
      let truncated = false;
      for await (const { event } of o.outbox.scan({ camera: q.camera, type: 'count.interval', ...overlapScan(q, maxBinSeconds(o.binSeconds())) })) {
        if (++scanned > o.maxScan) {
          truncated = true;
          break;
        }
        agg.add(event);
      }
      return { from: q.from ?? null, to: q.to ?? null, truncated, ...agg.result() };
    },
  );
};
