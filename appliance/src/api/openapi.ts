// The OpenAPI 3.1 document (/docs/json) of every route, and its viewer (/docs).
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

// fastify-plugin: swagger collects the routes of the scope it is registered in, so it must sit in the
// app's scope (beside the route plugins), not in a child of it.
export const openApi: FastifyPluginAsync = fp(
  async (app) => {
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
  },
  { name: 'roadside-openapi', dependencies: ['roadside-auth'] },
);
