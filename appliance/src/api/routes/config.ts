// The running config's identity for fleet tools: version, content hash and the config itself with
// every credential redacted ('read' access: nothing in it can open a camera, a sink or the API).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ConfigStore } from '../../config/store.js';
import { redactConfig } from '../../config/version.js';
import { ConfigVersionBody } from '../schemas.js';

export interface ConfigRoutesOptions {
  config: Pick<ConfigStore, 'get' | 'version'>;
}

export const configRoutes: FastifyPluginAsyncTypebox<ConfigRoutesOptions> = async (app, o) => {
  app.get(
    '/api/v1/config',
    { config: { access: 'read' }, schema: { tags: ['config'], summary: 'Running config: version, content hash, redacted config', response: { 200: ConfigVersionBody } } },
    async () => ({ ...o.config.version, config: redactConfig(o.config.get()) }),
  );
};
