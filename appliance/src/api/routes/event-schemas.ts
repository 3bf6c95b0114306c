// The JSON Schema of every event type (CloudEvents envelope + payload), as published in `dataschema`.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorBody } from '../../core/errors.js';
import { EVENT_TYPES, eventTypeOf } from '../../core/types.js';
import { eventJsonSchemas } from '../../events/cloudevent.js';
import { ErrorBody, EventSchemaList, EventTypeParams, JsonSchemaDoc } from '../schemas.js';

export interface EventSchemaRoutesOptions {
  /** Base of the absolute schema ids (config events.schemaBaseUrl). */
  schemaBaseUrl?: string;
}

export const eventSchemaRoutes: FastifyPluginAsyncTypebox<EventSchemaRoutesOptions> = async (app, o) => {
  const schemas: Record<string, Record<string, unknown>> = eventJsonSchemas(o.schemaBaseUrl);

  app.get(
    '/api/v1/schemas/events',
    { config: { access: 'read' }, schema: { tags: ['events'], summary: 'JSON Schema of every event type (CloudEvents envelope + payload)', response: { 200: EventSchemaList } } },
    async () => ({ types: [...EVENT_TYPES], schemas }),
  );

  app.get(
    '/api/v1/schemas/events/:type',
    {
      config: { access: 'read' },
      schema: {
        tags: ['events'],
        summary: 'JSON Schema of one event type (internal name, e.g. count.interval, or the CloudEvents type org.roadside.count.interval)',
        params: EventTypeParams,
        response: { 200: { description: 'JSON Schema document', content: { 'application/schema+json': { schema: JsonSchemaDoc } } }, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const s = schemas[eventTypeOf({ type: req.params.type })];
      if (!s) return reply.code(404).send(errorBody('ROADSIDE_ERR_NOT_FOUND', `no event type '${req.params.type}'`, [{ path: '/type', message: `one of ${EVENT_TYPES.join(', ')}` }]));
      return reply.header('content-type', 'application/schema+json').send(JSON.stringify(s));
    },
  );
};
