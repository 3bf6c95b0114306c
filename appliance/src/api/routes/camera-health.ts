// Camera health for the installer: confirm the view as it is now, and see the reference view the
// checks compare with (anonymized like any snapshot, never raw).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorBody } from '../../core/errors.js';
import type { CameraManager } from '../../pipeline/camera-manager.js';
import type { Anonymizer } from '../../privacy/index.js';
import { anonymizedJpeg } from '../anonymized-jpeg.js';
import { noRunningCamera } from '../camera-lookup.js';
import { CameraIdParams, contentResponse, ErrorBody, HealthConfirmBody } from '../schemas.js';

export interface CameraHealthRoutesOptions {
  cameras: Pick<CameraManager, 'get'>;
  anonymizer: () => Anonymizer | null;
}

export const cameraHealthRoutes: FastifyPluginAsyncTypebox<CameraHealthRoutesOptions> = async (app, o) => {

  app.post(
    '/api/v1/cameras/:id/health/confirm',
    {
      config: { access: 'write' },
      schema: {
        tags: ['cameras'],
        summary: 'The installer confirms the view as it is now: the health reference is learned again (a moved camera stops being suspect)',
        params: CameraIdParams,
        response: { 200: HealthConfirmBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const p = o.cameras.get(req.params.id);
      if (!p) return reply.code(404).send(noRunningCamera(req.params.id));
      p.retakeHealthReference();
      req.log.info({ camera: req.params.id }, 'health reference retaken on installer confirm');
      return { cameraId: req.params.id, health: p.status().health };
    },
  );

  app.get(
    '/api/v1/cameras/:id/health/reference.jpg',
    {
      config: { access: 'read' },
      schema: {
        tags: ['cameras'],
        summary: 'Anonymized snapshot of the health reference view; 503 while it is learned or when blurring fails',
        params: CameraIdParams,
        response: { 200: contentResponse('image/jpeg', 'the reference view, anonymized', { type: 'string', format: 'binary' }), 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const p = o.cameras.get(req.params.id);
      if (!p) return reply.code(404).send(noRunningCamera(req.params.id));
      const h = p.healthMonitor();
      if (!h) return reply.code(503).send(errorBody('ROADSIDE_ERR_NO_FRAME', 'this camera runs no health checks'));
      let jpeg = h.anonymizedReference();
      if (!jpeg) {
        const raw = h.referenceRaw();
        const takenAt = h.referenceTakenAtMs();
        if (!raw || takenAt === null) return reply.code(503).send(errorBody('ROADSIDE_ERR_NO_FRAME', 'no health reference yet: it is being learned'));
        const out = await anonymizedJpeg(o.anonymizer(), reply, raw.frame, raw.detections);
        if (!out) return reply;
        jpeg = out.jpeg;
        h.setAnonymizedReference(jpeg, takenAt);
      }
      return reply.header('content-type', 'image/jpeg').header('cache-control', 'no-store').send(jpeg);
    },
  );
};
