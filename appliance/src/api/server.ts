// The HTTP API (fastify). Thin: it validates, asks the appliance, and answers. Every route declares
// its access level; the auth hook enforces it.
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { installRoot } from '../core/paths.js';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from '@sinclair/typebox';
import type { Logger } from '../core/log.js';
import { ConfigError } from '../config/load.js';
import { ConfigCommitError, type ConfigStore } from '../config/store.js';
import { ERROR_CODES, errorBody, type ErrorCode } from '../core/errors.js';
import type { CameraConfig } from '../config/schema.js';
import type { Detection } from '../core/types.js';
import type { Metrics } from '../metrics/registry.js';
import type { CameraManager } from '../pipeline/camera-manager.js';
import { AnonymizationError, AnonymizerBusyError, type Anonymizer } from '../privacy/index.js';
import { buildCalibration, CalibrationFileSchema, saveCalibration } from '../../../calibration/file.js';
import { CalibrationError } from '../../../calibration/homography.js';
import { safeUrl } from '../ingest/index.js';
import { redactQuery } from '../core/redact.js';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { authHook, AuthFailureLimiter, type Access } from './auth.js';
import {
  CalibrationRequest,
  CalibrationResult,
  CameraBody,
  CameraIdParams,
  CameraListBody,
  CameraStatusBody,
  ErrorBody,
  SHARED_SCHEMAS,
  HealthConfirmBody,
} from './schemas.js';

const Health = Type.Object({ status: Type.Literal('ok') });
const Readiness = Type.Object({ ready: Type.Boolean(), reasons: Type.Array(Type.String()) });
const text = (contentType: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ description, content: { [contentType]: { schema } } });

export interface ApiDeps {
  log: Logger;
  metrics: Metrics;
  config: ConfigStore;
  cameras: CameraManager;
  /** null while it is not loaded: snapshots then answer 503. */
  anonymizer: () => Anonymizer | null;
  /** Reasons the appliance is not ready; empty when it is. */
  notReady: () => string[];
  /** Where the calibration API writes <camera>.calibration.json. */
  calibrationDir: string;
  /** Route plugins of other stages (events, counts, DATEX). */
  plugins?: FastifyPluginAsync[];
  https?: { cert: Buffer; key: Buffer } | null;
}

function httpError(statusCode: number, message: string, code: ErrorCode): Error & { statusCode: number; code: ErrorCode } {
  return Object.assign(new Error(message), { statusCode, code });
}

/** The catalogue code of an error fastify or a route threw (fastify's own errors carry FST_* codes). */
function codeOf(err: Error & { code?: unknown }, status: number): ErrorCode {
  if (typeof err.code === 'string' && err.code in ERROR_CODES) return err.code as ErrorCode;
  if (err instanceof ConfigCommitError) return 'ROADSIDE_ERR_CONFIG_SAVE_FAILED';
  if (status === 404) return 'ROADSIDE_ERR_NOT_FOUND';
  if (status === 409) return 'ROADSIDE_ERR_CONFLICT';
  if (status >= 400 && status < 500) return 'ROADSIDE_ERR_REQUEST_INVALID';
  return 'ROADSIDE_ERR_INTERNAL';
}

export interface RegisteredRoute {
  method: string;
  url: string;
  access: Access | null;
}
const ROUTES = new WeakMap<object, RegisteredRoute[]>();

/** Every route the server registered, with its access level (for the auth walk test and audits). */
export function registeredRoutes(app: object): RegisteredRoute[] {
  return ROUTES.get(app) ?? [];
}

/**
 * Bodies are JSON and get no coercion: `"5"` for an integer or `["url"]` for a string is refused, as
 * the config file refuses it. Query strings and path parameters are text by nature: they are coerced.
 */
function validatorCompiler() {
  const base = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false } as const;
  const strict = addFormats.default(new Ajv({ ...base, coerceTypes: false }));
  const coercing = addFormats.default(new Ajv({ ...base, coerceTypes: 'array' }));
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => (httpPart === 'body' ? strict : coercing).compile(schema);
}

/** What a request log line says about the request: never the Authorization header or a query credential. */
function requestForLog(req: FastifyRequest): Record<string, unknown> {
  return { method: req.method, url: redactQuery(req.url), remoteAddress: req.ip };
}

const WEB_DIR = join(installRoot(), 'appliance/web');

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const opts: FastifyServerOptions & { https?: { cert: Buffer; key: Buffer } } = {
    // Request lines carry the path and the query with credential values masked (`?token=` → `***`).
    loggerInstance: deps.log.child({}, { serializers: { req: requestForLog } }),
    ...(deps.https ? { https: deps.https } : {}),
  };
  const app = Fastify(opts as FastifyServerOptions).withTypeProvider<TypeBoxTypeProvider>();
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  app.setValidatorCompiler(validatorCompiler());

  // Routes added by plugins (swagger-ui) get an access level here; everything else must declare one.
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), access: 'read' as Access };
    const access = (route.config as { access?: Access } | undefined)?.access ?? null;
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, access });
  });
  ROUTES.set(app, routes);
  const auth0 = deps.config.get().auth;
  const limiter = new AuthFailureLimiter(auth0.maxFailures, auth0.failureWindowSeconds * 1000);
  app.addHook(
    'onRequest',
    authHook({
      enabled: () => deps.config.get().auth.enabled,
      tokens: () => deps.config.get().auth.tokens,
      limiter,
      onFailure: () => deps.metrics.authFailures.inc(),
    }),
  );
  app.setErrorHandler((err: Error & { code?: unknown; validation?: { instancePath: string; message?: string }[]; statusCode?: number; expose?: boolean }, req, reply) => {
    if (err.validation) {
      return reply.code(400).send({
        code: 'ROADSIDE_ERR_REQUEST_INVALID',
        error: `invalid request: ${err.message}`,
        issues: err.validation.map((v) => ({ path: v.instancePath || '/', message: v.message ?? 'invalid' })),
      });
    }
    if (err instanceof ConfigError) return reply.code(400).send(errorBody('ROADSIDE_ERR_CONFIG_INVALID', 'invalid config', err.issues));
    const code = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (code >= 500) req.log.error({ err: err.message }, 'request failed');
    return reply.code(code).send(errorBody(codeOf(err, code), code >= 500 && !err.expose ? 'internal error' : err.message));
  });

  // Our own 404: the error body of the catalogue, and no raw URL (with its query) in the log or the body.
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0];
    return reply.code(404).send(errorBody('ROADSIDE_ERR_NOT_FOUND', `no route ${req.method} ${path}`));
  });

  await app.register(swagger, {
    // Shared schemas keep their $id as their name under components.schemas.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      // 3.1: JSON Schema 2020-12 as TypeBox writes it (type null, numeric exclusiveMinimum).
      openapi: '3.1.0',
      info: { title: 'Roadside appliance API', version: '1', description: 'Aggregate traffic data, incidents and camera set-up. No raw video leaves the box.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const access = (a: Access) => ({ access: a });

  app.get('/healthz', { config: access('public'), schema: { tags: ['health'], summary: 'Liveness', security: [], response: { 200: Health } } }, async () => ({ status: 'ok' as const }));

  // ?gate=cameras is the health gate of an A/B update: ready only once every enabled camera has
  // delivered a frame since this process (or the camera's last reconfiguration) started.
  const ReadyQuery = Type.Object({ gate: Type.Optional(Type.Literal('cameras', { description: 'also require every enabled camera to have streamed since start' })) }, { additionalProperties: false });
    const camerasNotStreamed = (): string[] =>
    deps.config
      .get()
      .cameras.filter((c) => c.enabled && !deps.cameras.get(c.id)?.status().lastFrameAt)
      .map((c) => `camera '${c.id}' has not streamed since start`);
  app.get(
    '/readyz',
    { config: access('public'), schema: { tags: ['health'], summary: 'Readiness: config, detector and outbox loaded (gate=cameras: and every enabled camera has streamed)', security: [], querystring: ReadyQuery, response: { 200: Readiness, 503: { ...Readiness, description: 'not ready: the reasons say why' } } } },
    async (req, reply) => {
      const reasons = deps.notReady();
      if (req.query.gate === 'cameras') reasons.push(...camerasNotStreamed());
      return reply.code(reasons.length ? 503 : 200).send({ ready: reasons.length === 0, reasons });
    },
  );

  app.get('/metrics', { config: access('metrics'), schema: { tags: ['ops'], summary: 'Prometheus metrics', response: { 200: text('text/plain', 'Prometheus text exposition format 0.0.4') } } }, async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  const statusOf = (cam: CameraConfig): CameraStatusBody => {
    const p = deps.cameras.get(cam.id);
    if (p) return { ...p.status(), enabled: true };
    return {
      id: cam.id,
      name: cam.name ?? null,
      url: safeUrl(cam.url),
      enabled: cam.enabled,
      state: 'stopped',
      stateSince: null,
      reason: cam.enabled ? 'not started' : 'disabled in config',
      fps: 0,
      restarts: 0,
      framesDecoded: 0,
      framesAnalysed: 0,
      framesDropped: 0,
      lastFrameAt: null,
      calibrated: false,
      width: cam.width,
      height: cam.height,
      health: { enabled: cam.health?.enabled ?? true, reference: 'learning' as const, referenceTakenAt: null, checks: [], flags: [], suspect: false },
    };
  };
  /** The camera of that id in `cameras` (the running config by default), or a 404 thrown. */
  const cameraOr404 = (id: string, cameras = deps.config.get().cameras): CameraConfig => {
    const cam = cameras.find((c) => c.id === id);
    if (!cam) throw httpError(404, `no camera '${id}'`, 'ROADSIDE_ERR_NOT_FOUND');
    return cam;
  };

  app.get('/api/v1/cameras', { config: access('read'), schema: { tags: ['cameras'], summary: 'Cameras with state and fps', response: { 200: CameraListBody } } }, async () => ({
    cameras: deps.config.get().cameras.map(statusOf),
  }));

  app.get(
    '/api/v1/cameras/:id',
    { config: access('read'), schema: { tags: ['cameras'], summary: 'One camera: state, fps and live counts', params: CameraIdParams, response: { 200: Type.Object({ status: CameraStatusBody, live: Type.Unknown() }), 404: ErrorBody } } },
    async (req) => {
      const cam = cameraOr404(req.params.id);
      return { status: statusOf(cam), live: deps.cameras.get(cam.id)?.live() ?? null };
    },
  );

  app.get(
    '/api/v1/cameras/:id/config',
    { config: access('write'), schema: { tags: ['cameras'], summary: 'The camera config as installers edit it (URL with credentials)', params: CameraIdParams, response: { 200: CameraBody, 404: ErrorBody } } },
    async (req, reply) => {
      const cam = cameraOr404(req.params.id);
      return reply.send(cam as never);
    },
  );

  app.post(
    '/api/v1/cameras',
    { config: access('write'), schema: { tags: ['cameras'], summary: 'Add a camera; applied without a restart', body: CameraBody, response: { 201: CameraStatusBody, 400: ErrorBody, 409: ErrorBody } } },
    async (req, reply) => {
      const cfg = await deps.config.update((d) => {
        if (d.cameras.some((c) => c.id === req.body.id)) throw httpError(409, `camera '${req.body.id}' exists`, 'ROADSIDE_ERR_CONFLICT');
        d.cameras.push(req.body);
      });
      return reply.code(201).send(statusOf(cfg.cameras.find((c) => c.id === req.body.id)!));
    },
  );

  app.put(
    '/api/v1/cameras/:id',
    { config: access('write'), schema: { tags: ['cameras'], summary: 'Replace a camera config (lines, zones, rules...); applied without a restart', params: CameraIdParams, body: CameraBody, response: { 200: CameraStatusBody, 400: ErrorBody, 404: ErrorBody } } },
    async (req, reply) => {
      if (req.body.id !== req.params.id) return reply.code(400).send(errorBody('ROADSIDE_ERR_CONFLICT', 'body id differs from the URL id', [{ path: '/id', message: `must be '${req.params.id}'` }]));
      const cfg = await deps.config.update((d) => {
        cameraOr404(req.params.id, d.cameras);
        d.cameras = d.cameras.map((c) => (c.id === req.params.id ? req.body : c));
      });
      return statusOf(cfg.cameras.find((c) => c.id === req.params.id)!);
    },
  );

  app.delete(
    '/api/v1/cameras/:id',
    { config: access('write'), schema: { tags: ['cameras'], summary: 'Remove a camera', params: CameraIdParams, response: { 204: Type.Null(), 404: ErrorBody } } },
    async (req, reply) => {
      await deps.config.update((d) => {
        cameraOr404(req.params.id, d.cameras);
        d.cameras = d.cameras.filter((c) => c.id !== req.params.id);
      });
      return reply.code(204).send(null);
    },
  );

  /**
   * Anonymizes a raw frame to JPEG (fail closed): the anonymizer queues (one job in its worker, one
   * waiting) and answers busy beyond that; every refusal is answered here with its code.
   */
  const anonymizedJpeg = async (reply: FastifyReply, frame: { width: number; height: number; data: Buffer }, detections: Detection[]): Promise<{ jpeg: Buffer; maskedShare: number } | null> => {
    const anonymizer = deps.anonymizer();
    if (!anonymizer) {
      await reply.code(503).send(errorBody('ROADSIDE_ERR_IMAGE_WITHHELD', 'image withheld: anonymizer not loaded'));
      return null;
    }
    try {
      // The worker gets its own copy; inline blurring is in place, and the pipeline may still read this frame.
      const { width, height, data } = frame;
      return await anonymizer.anonymize({ width, height, data: anonymizer.blursInPlace ? Buffer.from(data) : data }, detections);
    } catch (err) {
      if (err instanceof AnonymizerBusyError) {
        await reply.code(503).header('retry-after', '1').send(errorBody('ROADSIDE_ERR_BUSY', 'busy with other snapshots, retry in a second'));
        return null;
      }
      if (err instanceof AnonymizationError) {
        await reply.code(503).send(errorBody('ROADSIDE_ERR_IMAGE_WITHHELD', `image withheld: ${err.reason}`));
        return null;
      }
      throw err;
    }
  };

  app.post(
    '/api/v1/cameras/:id/health/confirm',
    {
      config: access('write'),
      schema: { tags: ['cameras'], summary: 'The installer confirms the view as it is now: the health reference is learned again (a moved camera stops being suspect)', params: CameraIdParams, response: { 200: HealthConfirmBody, 404: ErrorBody } },
    },
    async (req, reply) => {
      const p = deps.cameras.get(req.params.id);
      if (!p) return reply.code(404).send(errorBody('ROADSIDE_ERR_NOT_FOUND', `no running camera '${req.params.id}'`));
      p.retakeHealthReference();
      req.log.info({ camera: req.params.id }, 'health reference retaken on installer confirm');
      return { cameraId: req.params.id, health: p.status().health };
    },
  );

  // The reference view the health checks compare with, anonymized like any snapshot (never raw).
  app.get(
    '/api/v1/cameras/:id/health/reference.jpg',
    {
      config: access('read'),
      schema: { tags: ['cameras'], summary: 'Anonymized snapshot of the health reference view; 503 while it is learned or when blurring fails', params: CameraIdParams, response: { 200: text('image/jpeg', 'the reference view, anonymized', { type: 'string', format: 'binary' }), 404: ErrorBody, 503: ErrorBody } },
    },
    async (req, reply) => {
      const p = deps.cameras.get(req.params.id);
      if (!p) return reply.code(404).send(errorBody('ROADSIDE_ERR_NOT_FOUND', `no running camera '${req.params.id}'`));
      const h = p.healthMonitor();
      if (!h) return reply.code(503).send(errorBody('ROADSIDE_ERR_NO_FRAME', 'this camera runs no health checks'));
      let jpeg = h.anonymizedReference();
      if (!jpeg) {
        const raw = h.referenceRaw();
        const takenAt = h.referenceTakenAtMs();
        if (!raw || takenAt === null) return reply.code(503).send(errorBody('ROADSIDE_ERR_NO_FRAME', 'no health reference yet: it is being learned'));
        const out = await anonymizedJpeg(reply as FastifyReply, raw.frame, raw.detections);
        if (!out) return reply;
        jpeg = out.jpeg;
        h.setAnonymizedReference(jpeg, takenAt);
      }
      return (reply as FastifyReply).header('content-type', 'image/jpeg').header('cache-control', 'no-store').send(jpeg);
    },
  );

  // The only route that returns image bytes: the last analysed frame, anonymized (fail closed).
  app.get(
    '/api/v1/cameras/:id/snapshot.jpg',
    {
      config: access('read'),
      schema: {
        tags: ['cameras'],
        summary: 'Anonymized snapshot (faces and plates pixelated; header x-roadside-masked-share); 503 when blurring fails',
        params: CameraIdParams,
        response: { 200: text('image/jpeg', 'the last analysed frame, anonymized', { type: 'string', format: 'binary' }), 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const p = deps.cameras.get(req.params.id);
      if (!p) return reply.code(404).send(errorBody('ROADSIDE_ERR_NOT_FOUND', `no running camera '${req.params.id}'`));
      const last = p.lastAnalysed();
      if (!last) return reply.code(503).send(errorBody('ROADSIDE_ERR_NO_FRAME', 'no frame analysed yet'));
      const out = await anonymizedJpeg(reply as FastifyReply, last.frame, last.detections);
      if (!out) return reply;
      return (reply as FastifyReply)
        .header('content-type', 'image/jpeg')
        .header('cache-control', 'no-store')
        .header('x-roadside-masked-share', out.maskedShare.toFixed(4))
        .send(out.jpeg);
    },
  );

  app.get(
    '/api/v1/cameras/:id/calibration',
    { config: access('read'), schema: { tags: ['cameras'], summary: 'The calibration in force: point pairs, image size, fit errors (no pixels)', params: CameraIdParams, response: { 200: CalibrationFileSchema, 404: ErrorBody } } },
    async (req, reply) => {
      const cam = cameraOr404(req.params.id);
      const cal = deps.cameras.get(cam.id)?.calibrationInUse() ?? null;
      if (!cal) return reply.code(404).send(errorBody('ROADSIDE_ERR_NOT_CALIBRATED', `camera '${cam.id}' is not calibrated`));
      return cal;
    },
  );

  app.post(
    '/api/v1/cameras/:id/calibration',
    { config: access('write'), schema: { tags: ['cameras'], summary: 'Fit the camera homography from 4+ image↔ground point pairs and apply it', params: CameraIdParams, body: CalibrationRequest, response: { 200: CalibrationResult, 400: ErrorBody, 404: ErrorBody } } },
    async (req, reply) => {
      cameraOr404(req.params.id);
      let cal;
      try {
        cal = buildCalibration({ imageSize: req.body.imageSize, points: req.body.points, cameraId: req.params.id });
      } catch (err) {
        if (err instanceof CalibrationError) return reply.code(400).send(errorBody('ROADSIDE_ERR_CALIBRATION_INVALID', `calibration refused: ${err.message}`, [{ path: '/points', message: err.message }]));
        throw err;
      }
      mkdirSync(deps.calibrationDir, { recursive: true });
      const file = join(deps.calibrationDir, `${req.params.id}.calibration.json`);
      saveCalibration(file, cal);
      await deps.config.update((d) => {
        cameraOr404(req.params.id, d.cameras).calibration = file;
      });
      // The file name does not change on a second calibration, so the config does not either.
      deps.cameras.recalibrate(req.params.id);
      return { cameraId: req.params.id, file, errors: cal.errors };
    },
  );

  // The installer page. Browsers log in with HTTP Basic (any user name, the token as password).
  app.get('/', { config: access('read'), schema: { hide: true } }, async (_req, reply) => reply.redirect('/ui/'));
  const page = (file: string, type: string) => async (_req: unknown, reply: { header: (k: string, v: string) => { send: (b: Buffer) => unknown } }) =>
    reply.header('content-type', type).send(await readFile(join(WEB_DIR, file)));
  app.get('/ui/', { config: access('read'), schema: { hide: true } }, page('index.html', 'text/html; charset=utf-8'));
  app.get('/ui/app.js', { config: access('read'), schema: { hide: true } }, page('app.js', 'text/javascript; charset=utf-8'));
  app.get('/ui/style.css', { config: access('read'), schema: { hide: true } }, page('style.css', 'text/css; charset=utf-8'));

  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  return app;
}
