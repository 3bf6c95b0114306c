// The appliance's HTTP server: fastify with the request log masking credentials and TLS when
// configured, and the API plugin (app.ts) on it. Not listening yet: the caller listens (or injects).
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Logger } from '../core/log.js';
import { redactQuery } from '../core/redact.js';
import { roadsideApi, type ApiOptions } from './app.js';

export interface ApiServerOptions {
  log: Logger;
  https?: { cert: Buffer; key: Buffer } | null;
}

/** What a request log line says about the request: never the Authorization header or a query credential. */
function requestForLog(req: FastifyRequest): Record<string, unknown> {
  return { method: req.method, url: redactQuery(req.url), remoteAddress: req.ip };
}

export async function createApiServer(server: ApiServerOptions, api: ApiOptions): Promise<FastifyInstance> {
  // Request lines carry the path and the query with credential values masked (`?token=` → `***`).
  const loggerInstance = server.log.child({}, { serializers: { req: requestForLog } });
  const opts: FastifyServerOptions & { https?: { cert: Buffer; key: Buffer } } = { loggerInstance, ...(server.https ? { https: server.https } : {}) };
  const app = Fastify(opts as FastifyServerOptions);
  await app.register(roadsideApi, api);
  return app;
}
