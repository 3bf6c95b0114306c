// The running config's identity for fleet tools: version, content hash and the config itself with
// every credential redacted ('read' access: nothing in it can open a camera, a sink or the API).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ConfigSchema, type Config } from '../config/schema.js';
import type { ConfigStore } from '../config/store.js';
import { redactConfig } from '../config/version.js';

export const ConfigVersionBody = Type.Object({
  version: Type.Integer({ minimum: 1, description: 'increases with every applied change, also across restarts' }),
  hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256 of the canonical config JSON, credentials included' }),
  appliedAt: Type.String({ format: 'date-time' }),
  // Unsafe<Config>: the same JSON Schema, typed as Config (the provider cannot infer the literal unions).
  config: Type.Unsafe<Config>({ ...ConfigSchema, description: 'the running config; passwords, secrets, tokens, token hashes and URL credentials read <redacted>' }),
});

export function configRoutes(store: ConfigStore): FastifyPluginAsync {
  return async (app) => {
    const r = app.withTypeProvider<TypeBoxTypeProvider>();
    r.get(
      '/api/v1/config',
      { config: { access: 'read' }, schema: { tags: ['config'], summary: 'Running config: version, content hash, redacted config', response: { 200: ConfigVersionBody } } },
      async () => ({ ...store.version, config: redactConfig(store.get()) }),
    );
  };
}
