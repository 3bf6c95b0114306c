// GET /api/v1/asyncapi.json: the AsyncAPI 3 contract of the webhook, MQTT topics and NATS subjects,
// with defaults (appliance id, prefixes) from the running config.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../config/schema.js';
import { AsyncApiBody, asyncApiDefaults, asyncApiDocument } from '../events/asyncapi.js';

export function asyncApiRoutes(config: () => Config): FastifyPluginAsync {
  return async (app) => {
    app.withTypeProvider<TypeBoxTypeProvider>().get(
      '/api/v1/asyncapi.json',
      { config: { access: 'read' }, schema: { tags: ['events'], summary: 'AsyncAPI 3 contract: webhook, MQTT topics, NATS subjects, event payload schemas', response: { 200: AsyncApiBody } } },
      async () => asyncApiDocument(asyncApiDefaults(config())),
    );
  };
}
