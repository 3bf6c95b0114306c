// The Prometheus scrape (role `metrics`).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Metrics } from '../../metrics/registry.js';
import { contentResponse } from '../schemas.js';

export interface MetricsRoutesOptions {
  metrics: Pick<Metrics, 'registry'>;
}

export const metricsRoutes: FastifyPluginAsyncTypebox<MetricsRoutesOptions> = async (app, o) => {
  app.get(
    '/metrics',
    { config: { access: 'metrics' }, schema: { tags: ['ops'], summary: 'Prometheus metrics', response: { 200: contentResponse('text/plain', 'Prometheus text exposition format 0.0.4') } } },
    async (_req, reply) => {
      reply.header('content-type', o.metrics.registry.contentType);
      return o.metrics.registry.metrics();
    },
  );
};
