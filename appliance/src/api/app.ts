// The HTTP API as one fastify plugin: register it on any fastify instance (the appliance's server,
// or a bare one in tests, which then inject() without listening). Thin: it validates, asks the
// appliance, and answers. Every route declares its access level; the auth plugin enforces it.
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { ConfigStore } from '../config/store.js';
import { installRoot } from '../core/paths.js';
import type { Outbox } from '../events/outbox.js';
import type { Metrics } from '../metrics/registry.js';
import type { CameraManager } from '../pipeline/camera-manager.js';
import type { Anonymizer } from '../privacy/index.js';
import { authPlugin } from './auth.js';
import { errorHandlers } from './errors.js';
import { openApi } from './openapi.js';
import { asyncApiRoutes } from './routes/asyncapi.js';
import { calibrationRoutes } from './routes/calibration.js';
import { cameraHealthRoutes } from './routes/camera-health.js';
import { cameraRoutes } from './routes/cameras.js';
import { configRoutes } from './routes/config.js';
import { countRoutes } from './routes/counts.js';
import { configSites, datexRoutes, datexSettings } from './routes/datex.js';
import { eventSchemaRoutes } from './routes/event-schemas.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { installerPage } from './routes/installer-page.js';
import { laneRoutes } from './routes/lanes.js';
import { metricsRoutes } from './routes/metrics.js';
import { snapshotRoutes } from './routes/snapshot.js';
import { sharedSchemas } from './schemas.js';

export interface ApiOptions {
  metrics: Metrics;
  config: ConfigStore;
  cameras: CameraManager;
  /** The event store the event, count and DATEX routes read. */
  outbox: Outbox;
  /** null while it is not loaded: image routes then answer 503. */
  anonymizer: () => Anonymizer | null;
  /** Reasons the appliance is not ready; empty when it is. */
  notReady: () => string[];
  /** Where the calibration API writes <camera>.calibration.json. */
  calibrationDir: string;
  /** Live event streams: heartbeat period (default 15 s) and cap (default 32). */
  liveFeed?: { heartbeatMs?: number; maxStreams?: number };
  /** Most events one aggregate request (counts, DATEX) reads (default 100,000). */
  maxScan?: number;
  /** The installer page's files (default appliance/web of the install). */
  webDir?: string;
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

// fastify-plugin: the app owns the server it is registered on (validation, auth, error and 404
// handling apply to every request it gets, and registeredRoutes() reads that server); each route
// plugin inside stays encapsulated and gets only the dependencies it names.
const api: FastifyPluginAsync<ApiOptions> = async (app, o) => {
  const { config, cameras, outbox } = o;
  app.setValidatorCompiler(validatorCompiler());
  await app.register(sharedSchemas);
  const auth0 = config.get().auth;
  await app.register(authPlugin, {
    enabled: () => config.get().auth.enabled,
    tokens: () => config.get().auth.tokens,
    maxFailures: auth0.maxFailures,
    failureWindowMs: auth0.failureWindowSeconds * 1000,
    onFailure: () => o.metrics.authFailures.inc(),
  });
  await app.register(errorHandlers);
  await app.register(openApi);

  const binSeconds = () => config.get().analytics.binSeconds;
  const maxScan = o.maxScan ?? 100_000;
  await app.register(healthRoutes, { notReady: o.notReady, config, cameras });
  await app.register(metricsRoutes, { metrics: o.metrics });
  await app.register(cameraRoutes, { config, cameras });
  await app.register(cameraHealthRoutes, { cameras, anonymizer: o.anonymizer });
  await app.register(snapshotRoutes, { cameras, anonymizer: o.anonymizer });
  await app.register(calibrationRoutes, { config, cameras, calibrationDir: o.calibrationDir });
  await app.register(installerPage, { webDir: o.webDir ?? join(installRoot(), 'appliance/web') });
  await app.register(configRoutes, { config });
  await app.register(asyncApiRoutes, { config });
  await app.register(eventRoutes, { outbox, ...o.liveFeed });
  await app.register(countRoutes, { outbox, binSeconds, maxScan });
  await app.register(laneRoutes, { outbox, maxScan });
  await app.register(eventSchemaRoutes, { schemaBaseUrl: config.get().events.schemaBaseUrl });
  await app.register(datexRoutes, { outbox, sites: () => configSites(config.get()), binSeconds, datex: () => datexSettings(config.get()), maxScan });
};
export const roadsideApi = fp(api, { name: 'roadside-api', fastify: '5.x' });
