// Camera calibration: the homography in force, and fitting a new one from image↔ground point pairs.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { buildCalibration, CalibrationFileSchema, saveCalibration } from '../../../../calibration/file.js';
import { CalibrationError } from '../../../../calibration/homography.js';
import type { ConfigStore } from '../../config/store.js';
import { errorBody } from '../../core/errors.js';
import type { CameraManager } from '../../pipeline/camera-manager.js';
import { cameraOr404 } from '../camera-lookup.js';
import { CalibrationRequest, CalibrationResult, CameraIdParams, ErrorBody } from '../schemas.js';

export interface CalibrationRoutesOptions {
  config: Pick<ConfigStore, 'get' | 'update'>;
  cameras: Pick<CameraManager, 'get' | 'recalibrate'>;
  /** Where <camera>.calibration.json is written. */
  calibrationDir: string;
}

export const calibrationRoutes: FastifyPluginAsyncTypebox<CalibrationRoutesOptions> = async (app, o) => {
  app.get(
    '/api/v1/cameras/:id/calibration',
    {
      config: { access: 'read' },
      schema: { tags: ['cameras'], summary: 'The calibration in force: point pairs, image size, fit errors (no pixels)', params: CameraIdParams, response: { 200: CalibrationFileSchema, 404: ErrorBody } },
    },
    async (req, reply) => {
      const cam = cameraOr404(req.params.id, o.config.get().cameras);
      const cal = o.cameras.get(cam.id)?.calibrationInUse() ?? null;
      if (!cal) return reply.code(404).send(errorBody('ROADSIDE_ERR_NOT_CALIBRATED', `camera '${cam.id}' is not calibrated`));
      return cal;
    },
  );

  app.post(
    '/api/v1/cameras/:id/calibration',
    {
      config: { access: 'write' },
      schema: {
        tags: ['cameras'],
        summary: 'Fit the camera homography from 4+ image↔ground point pairs and apply it',
        params: CameraIdParams,
        body: CalibrationRequest,
        response: { 200: CalibrationResult, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      cameraOr404(req.params.id, o.config.get().cameras);
      let cal;
      try {
        cal = buildCalibration({ imageSize: req.body.imageSize, points: req.body.points, cameraId: req.params.id });
      } catch (err) {
        if (err instanceof CalibrationError) return reply.code(400).send(errorBody('ROADSIDE_ERR_CALIBRATION_INVALID', `calibration refused: ${err.message}`, [{ path: '/points', message: err.message }]));
        throw err;
      }
      mkdirSync(o.calibrationDir, { recursive: true });
      const file = join(o.calibrationDir, `${req.params.id}.calibration.json`);
      saveCalibration(file, cal);
      await o.config.update((d) => {
        cameraOr404(req.params.id, d.cameras).calibration = file;
      });
      // The file name does not change on a second calibration, so the config does not either.
      o.cameras.recalibrate(req.params.id);
      return { cameraId: req.params.id, file, errors: cal.errors };
    },
  );
};
