// GET /api/v1/asyncapi.json: the AsyncAPI 3 contract of the webhook, MQTT topics and NATS subjects,
// with defaults (appliance id, prefixes) from the running config.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ConfigStore } from '../../config/store.js';
import { AsyncApiBody, asyncApiDefaults, asyncApiDocument } from '../../events/asyncapi.js';

export interface AsyncApiRoutesOptions {
  config: Pick<ConfigStore, 'get'>;
}

export const asyncApiRoutes: FastifyPluginAsyncTypebox<AsyncApiRoutesOptions> = async (app, o) => {
  app.get(
    '/api/v1/asyncapi.json',
    { config: { access: 'read' }, schema: { tags: ['events'], summary: 'AsyncAPI 3 contract: webhook, MQTT topics, NATS subjects, event payload schemas', response: { 200: AsyncApiBody } } },
    async () => asyncApiDocument(asyncApiDefaults(o.config.get())),
  );
};
