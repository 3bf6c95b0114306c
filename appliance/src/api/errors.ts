// Every error response of the API: a code from the catalogue (core/errors.ts), a message, and the
// failing fields. Routes throw httpError() or send errorBody(); this plugin answers everything else
// (schema failures, config refusals, fastify's own errors, unknown URLs) in the same shape.
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { ConfigError } from '../config/load.js';
import { ConfigCommitError } from '../config/store.js';
import { ERROR_CODES, errorBody, type ErrorCode } from '../core/errors.js';

export type HttpError = Error & { statusCode: number; code: ErrorCode };

/** An error a route throws to answer `statusCode` with `code` and `message`. */
export function httpError(statusCode: number, message: string, code: ErrorCode): HttpError {
  return Object.assign(new Error(message), { statusCode, code });
}

const isCatalogued = (code: unknown): code is ErrorCode => typeof code === 'string' && code in ERROR_CODES;

/** The catalogue code of an error fastify or a route threw (fastify's own errors carry FST_* codes). */
export function codeOf(err: Error & { code?: unknown }, status: number): ErrorCode {
  if (isCatalogued(err.code)) return err.code;
  if (err instanceof ConfigCommitError) return 'ROADSIDE_ERR_CONFIG_SAVE_FAILED';
  if (status === 404) return 'ROADSIDE_ERR_NOT_FOUND';
  if (status === 409) return 'ROADSIDE_ERR_CONFLICT';
  if (status >= 400 && status < 500) return 'ROADSIDE_ERR_REQUEST_INVALID';
  return 'ROADSIDE_ERR_INTERNAL';
}

type ThrownError = Partial<FastifyError> & Error & { expose?: boolean };

// fastify-plugin: the handlers must answer for every route plugin of the app, and for unknown URLs.
export const errorHandlers: FastifyPluginAsync = fp(
  async (app) => {
    app.setErrorHandler((err: ThrownError, req, reply) => {
      if (err.validation) {
        return reply.code(400).send({
          code: 'ROADSIDE_ERR_REQUEST_INVALID',
          error: `invalid request: ${err.message}`,
          issues: err.validation.map((v) => ({ path: v.instancePath || '/', message: v.message ?? 'invalid' })),
        });
      }
      if (err instanceof ConfigError) return reply.code(400).send(errorBody('ROADSIDE_ERR_CONFIG_INVALID', 'invalid config', err.issues));
      const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
      if (status >= 500) req.log.error({ err: err.message }, 'request failed');
      return reply.code(status).send(errorBody(codeOf(err, status), status >= 500 && !err.expose ? 'internal error' : err.message));
    });

    // The catalogue's body, and no raw URL (with its query) in the log or the body.
    app.setNotFoundHandler((req, reply) => {
      const [path] = req.url.split('?');
      return reply.code(404).send(errorBody('ROADSIDE_ERR_NOT_FOUND', `no route ${req.method} ${path ?? ''}`));
    });
  },
  { name: 'roadside-errors' },
);
