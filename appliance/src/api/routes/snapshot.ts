// The camera snapshot: the last analysed frame, anonymized (faces and plates pixelated), never raw.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorBody } from '../../core/errors.js';
import type { CameraManager } from '../../pipeline/camera-manager.js';
import type { Anonymizer } from '../../privacy/index.js';
import { anonymizedJpeg } from '../anonymized-jpeg.js';
import { noRunningCamera } from '../camera-lookup.js';
import { CameraIdParams, contentResponse, ErrorBody } from '../schemas.js';

export interface SnapshotRoutesOptions {
  cameras: Pick<CameraManager, 'get'>;
  /** null while it is not loaded: snapshots then answer 503. */
  anonymizer: () => Anonymizer | null;
}

export const snapshotRoutes: FastifyPluginAsyncTypebox<SnapshotRoutesOptions> = async (app, o) => {
  app.get(
    '/api/v1/cameras/:id/snapshot.jpg',
    {
      config: { access: 'read' },
      schema: {
        tags: ['cameras'],
        summary: 'Anonymized snapshot (faces and plates pixelated; header x-roadside-masked-share); 503 when blurring fails',
        params: CameraIdParams,
        response: { 200: contentResponse('image/jpeg', 'the last analysed frame, anonymized', { type: 'string', format: 'binary' }), 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const p = o.cameras.get(req.params.id);
      if (!p) return reply.code(404).send(noRunningCamera(req.params.id));
      const last = p.lastAnalysed();
      if (!last) return reply.code(503).send(errorBody('ROADSIDE_ERR_NO_FRAME', 'no frame analysed yet'));
      const out = await anonymizedJpeg(o.anonymizer(), reply, last.frame, last.detections);
      if (!out) return reply;
      return reply.header('content-type', 'image/jpeg').header('cache-control', 'no-store').header('x-roadside-masked-share', out.maskedShare.toFixed(4)).send(out.jpeg);
    },
  );
};
