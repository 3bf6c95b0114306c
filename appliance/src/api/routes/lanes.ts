// Lane data query: GET /api/v1/lanes, the lane.interval payloads (volume by class, loop occupancy,
// speed, headway, gap, length classes, queue length) per camera and lane. 'read' access.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { LaneIntervalSelector, LanesBody, LanesQuery } from '../../events/lanes-query.js';
import type { Outbox } from '../../events/outbox.js';
import { ErrorBody } from '../schemas.js';

export interface LaneRoutesDeps {
  outbox: Outbox;
  /** Most events one request reads; beyond it the answer says truncated. */
  maxScan?: number;
}

export function laneRoutes(deps: LaneRoutesDeps): FastifyPluginAsync {
  const maxScan = deps.maxScan ?? 100_000;
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/v1/lanes',
      {
        config: { access: 'read' as const },
        schema: {
          tags: ['events'],
          summary: 'Lane data like loop detectors (lane.interval events): per camera, lane and interval; a window selects the intervals that overlap it, latest=true the newest per lane',
          querystring: LanesQuery,
          response: { 200: LanesBody, 400: ErrorBody },
        },
      },
      async (req) => {
        const q = req.query;
        const sel = new LaneIntervalSelector(q);
        // An interval event's time is its end: it lies after `from` and at most 60 s (the longest lane interval, plus a DST hour) after `to`.
        const filter = {
          camera: q.camera,
          type: 'lane.interval' as const,
          ...(q.from ? { fromMs: Date.parse(q.from) } : {}),
          ...(q.to ? { toMs: Date.parse(q.to) + 3_660_000 } : {}),
          ...(q.latest && !q.from ? { fromMs: Date.now() - 86_400_000 } : {}),
        };
        let scanned = 0;
        let truncated = false;
        for await (const { event } of deps.outbox.scan(filter)) {
          if (++scanned > maxScan) {
            truncated = true;
            break;
          }
          sel.add(event);
        }
        return sel.result(truncated);
      },
    );
  };
}
