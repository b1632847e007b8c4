/**
 * The OpenAPI 3 document of the API (served at GET /openapi.json): @fastify/swagger writes it from
 * the routes' TypeBox schemas (src/api/routes.ts), the very schemas fastify's Ajv checks requests
 * with; test/api-openapi.test.ts keeps it equal to what the server serves and sends every example
 * request to a live server.
 */
import swagger, { type SwaggerOptions } from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { RouteConfig } from './request-guards';
import { apiRoutes, type Route } from './routes';

export const swaggerOptions: SwaggerOptions = {
  openapi: {
    openapi: '3.0.3',
    info: {
      title: 'temporal-batch API',
      version: '0.1.0',
      description:
        'Start pipeline runs, follow their progress, list and redrive dead letters, and publish events that start every subscribed pipeline and flow (at most once per event ID). Every route but this document needs "Authorization: Bearer <token>". Bad input is answered 4xx with {"error", "message"}; the message says what to change.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
  },
};

/** fastify's `:name` for the table's `{name}`. */
export const fastifyUrl = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/**
 * Registers @fastify/swagger and the table's routes, each served by `handlerOf(route)`: the
 * document is written from these registrations alone, so the server's and `openApiDocument()`'s
 * are the same.
 */
export async function registerDocumentedRoutes(
  app: FastifyInstance,
  handlerOf: (route: Route) => (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
): Promise<void> {
  await app.register(swagger, swaggerOptions);
  for (const route of apiRoutes) {
    const config: RouteConfig = { path: route.path, public: route.public };
    app.route({
      method: route.method,
      url: fastifyUrl(route.path),
      config,
      schema: {
        operationId: route.operationId,
        summary: route.summary,
        ...(route.public ? { security: [] } : {}),
        ...(route.params ? { params: route.params } : {}),
        ...(route.body ? { body: route.body } : {}),
        response: route.responses,
      },
      handler: handlerOf(route),
    });
  }
}

/** The document as the server writes it, without a server (for tests and tools). */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const app = Fastify({ logger: false, exposeHeadRoutes: false });
  await registerDocumentedRoutes(app, () => async () => {
    throw new Error('openApiDocument() serves no requests');
  });
  await app.ready();
  const document = JSON.parse(JSON.stringify(app.swagger())) as Record<string, unknown>;
  await app.close();
  return document;
}
