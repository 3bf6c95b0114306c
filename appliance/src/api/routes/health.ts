// Liveness and readiness, without a token (load balancers, systemd, the A/B update gate).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ConfigStore } from '../../config/store.js';
import type { CameraManager } from '../../pipeline/camera-manager.js';
import { HealthBody, ReadinessBody, ReadyQuery } from '../schemas.js';

export interface HealthRoutesOptions {
  /** Reasons the appliance is not ready; empty when it is. */
  notReady: () => string[];
  config: Pick<ConfigStore, 'get'>;
  cameras: Pick<CameraManager, 'get'>;
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, o) => {
  app.get('/healthz', { config: { access: 'public' }, schema: { tags: ['health'], summary: 'Liveness', security: [], response: { 200: HealthBody } } }, async () => ({ status: 'ok' as const }));

  // ?gate=cameras: ready only once every enabled camera has delivered a frame since this process (or
  // the camera's last reconfiguration) started.
  const camerasNotStreamed = (): string[] =>
    o.config
      .get()
      .cameras.filter((c) => c.enabled && !o.cameras.get(c.id)?.status().lastFrameAt)
      .map((c) => `camera '${c.id}' has not streamed since start`);
  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Readiness: config, detector and outbox loaded (gate=cameras: and every enabled camera has streamed)',
        security: [],
        querystring: ReadyQuery,
        response: { 200: ReadinessBody, 503: { ...ReadinessBody, description: 'not ready: the reasons say why' } },
      },
    },
    async (req, reply) => {
      const reasons = o.notReady();
      if (req.query.gate === 'cameras') reasons.push(...camerasNotStreamed());
      return reply.code(reasons.length ? 503 : 200).send({ ready: reasons.length === 0, reasons });
    },
  );
};
