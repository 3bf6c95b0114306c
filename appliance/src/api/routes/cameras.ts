// Cameras: list with state and fps, one camera with its live counts, and the installer's add, replace
// and remove (applied without a restart; the config store validates and keeps the last good config).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ConfigStore } from '../../config/store.js';
import { errorBody } from '../../core/errors.js';
import type { CameraManager } from '../../pipeline/camera-manager.js';
import { cameraOr404, cameraStatus } from '../camera-lookup.js';
import { httpError } from '../errors.js';
import { CameraBody, CameraIdParams, CameraListBody, CameraStatusBody, ErrorBody } from '../schemas.js';

export interface CameraRoutesOptions {
  config: Pick<ConfigStore, 'get' | 'update'>;
  cameras: Pick<CameraManager, 'get'>;
}

const CameraDetailBody = Type.Object({ status: CameraStatusBody, live: Type.Unknown() });

export const cameraRoutes: FastifyPluginAsyncTypebox<CameraRoutesOptions> = async (app, o) => {
  const statusOf = (id: string, cameras = o.config.get().cameras) => cameraStatus(cameraOr404(id, cameras), o.cameras);

  app.get('/api/v1/cameras', { config: { access: 'read' }, schema: { tags: ['cameras'], summary: 'Cameras with state and fps', response: { 200: CameraListBody } } }, async () => ({
    cameras: o.config.get().cameras.map((c) => cameraStatus(c, o.cameras)),
  }));

  app.get(
    '/api/v1/cameras/:id',
    { config: { access: 'read' }, schema: { tags: ['cameras'], summary: 'One camera: state, fps and live counts', params: CameraIdParams, response: { 200: CameraDetailBody, 404: ErrorBody } } },
    async (req) => ({ status: statusOf(req.params.id), live: o.cameras.get(req.params.id)?.live() ?? null }),
  );

  app.get(
    '/api/v1/cameras/:id/config',
    { config: { access: 'write' }, schema: { tags: ['cameras'], summary: 'The camera config as installers edit it (URL with credentials)', params: CameraIdParams, response: { 200: CameraBody, 404: ErrorBody } } },
    async (req) => cameraOr404(req.params.id, o.config.get().cameras),
  );

  app.post(
    '/api/v1/cameras',
    { config: { access: 'write' }, schema: { tags: ['cameras'], summary: 'Add a camera; applied without a restart', body: CameraBody, response: { 201: CameraStatusBody, 400: ErrorBody, 409: ErrorBody } } },
    async (req, reply) => {
      const cfg = await o.config.update((d) => {
        if (d.cameras.some((c) => c.id === req.body.id)) throw httpError(409, `camera '${req.body.id}' exists`, 'ROADSIDE_ERR_CONFLICT');
        d.cameras.push(req.body);
      });
      return reply.code(201).send(statusOf(req.body.id, cfg.cameras));
    },
  );

  app.put(
    '/api/v1/cameras/:id',
    {
      config: { access: 'write' },
      schema: { tags: ['cameras'], summary: 'Replace a camera config (lines, zones, rules...); applied without a restart', params: CameraIdParams, body: CameraBody, response: { 200: CameraStatusBody, 400: ErrorBody, 404: ErrorBody } },
    },
    async (req, reply) => {
      if (req.body.id !== req.params.id) return reply.code(400).send(errorBody('ROADSIDE_ERR_CONFLICT', 'body id differs from the URL id', [{ path: '/id', message: `must be '${req.params.id}'` }]));
      const cfg = await o.config.update((d) => {
        cameraOr404(req.params.id, d.cameras);
        d.cameras = d.cameras.map((c) => (c.id === req.params.id ? req.body : c));
      });
      return statusOf(req.params.id, cfg.cameras);
    },
  );

  app.delete(
    '/api/v1/cameras/:id',
    { config: { access: 'write' }, schema: { tags: ['cameras'], summary: 'Remove a camera', params: CameraIdParams, response: { 204: Type.Null(), 404: ErrorBody } } },
    async (req, reply) => {
      await o.config.update((d) => {
        cameraOr404(req.params.id, d.cameras);
        d.cameras = d.cameras.filter((c) => c.id !== req.params.id);
      });
      return reply.code(204).send(null);
    },
  );
};
