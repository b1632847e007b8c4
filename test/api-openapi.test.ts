/**
 * The OpenAPI document stays true: it describes exactly the routes the server serves, its
 * request schemas are the ones requests are checked with, its examples are accepted by a live
 * server, and every operation answers with a documented status and a body of the documented shape.
 * (@fastify/swagger writes the document from the routes' TypeBox schemas; TypeBox's own checker
 * checks values against them here, fastify's Ajv on the live server.)
 */
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { openApiDocument } from '../src/api/openapi';
import { apiRoutes } from '../src/api/routes';
import { TestApi } from './support/api';
import { withPipelineWorkers } from './support/pipeline-workers';
import { sharedDevServer } from './support/servers';

type JsonSchema = TSchema;

interface Operation {
  operationId: string;
  security?: unknown[];
  requestBody?: { content: { 'application/json': { schema: JsonSchema; example: unknown } } };
  responses: Record<string, { content: { 'application/json': { schema: JsonSchema } } }>;
}

/** Where `value` does not fit `schema`: one line per problem (none when it fits). */
function schemaProblems(schema: JsonSchema, value: unknown): string[] {
  return [...Value.Errors(schema, value)].map((e) => `${e.instancePath || '(body)'}: ${e.message}`);
}

/** The document, and its every operation as {method, path, operation}. */
let openApi: { paths: Record<string, Record<string, Operation>> };
let documented: { method: string; path: string; op: Operation }[];

describe('OpenAPI document', function () {
  let env: TestWorkflowEnvironment;
  let api: TestApi;
  before(async () => {
    openApi = (await openApiDocument()) as typeof openApi;
    documented = Object.entries(openApi.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
    );
    env = await sharedDevServer();
    api = await new TestApi(env, 'oas').start();
  });
  after(async () => {
    await api.stop();
    api.cleanUp();
  });

  it('describes every route the router serves, and no other', () => {
    const served = apiRoutes.map((r) => `${r.method} ${r.path} ${r.operationId}`).sort();
    const described = documented.map((d) => `${d.method} ${d.path} ${d.op.operationId}`).sort();
    assert.deepEqual(described, served);
  });

  it('uses the request schemas the server checks, with examples that pass them', () => {
    for (const route of apiRoutes) {
      const op = documented.find((d) => d.method === route.method && d.path === route.path)!.op;
      const body = op.requestBody?.content['application/json'];
      assert.equal(body !== undefined, route.body !== undefined, `${route.operationId}: documented body`);
      if (body && route.body) {
        // The documented schema is the route's, as OpenAPI 3.0 writes it; so is the example.
        assert.deepEqual(schemaProblems(route.body, body.example), [], `${route.operationId}: example`);
        assert.deepEqual(schemaProblems(body.schema, body.example), [], `${route.operationId}: example (document)`);
        assert.deepEqual(body.example, (route.body as { examples?: unknown[] }).examples?.[0]);
        const properties = (schema: unknown) => Object.keys((schema as { properties?: object }).properties ?? {});
        assert.deepEqual(properties(body.schema), properties(route.body));
      }
      assert.equal(
        op.security?.length === 0,
        route.public === true,
        `${route.operationId}: token required unless public`,
      );
    }
  });

  it('is served at /openapi.json without a token', async () => {
    const { status, body } = await api.call('GET', '/openapi.json', { token: null });
    assert.equal(status, 200);
    assert.deepEqual(body, openApi);
  });

  it('every operation answers a documented status with a body of the documented shape', async () => {
    const params: Record<string, string> = { pipeline: api.pipelines.greet, run: 'first-api-run', topic: 'signups' };
    const urlOf = (path: string) => path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name]));
    const check = (what: string, op: Operation, answer: { status: number; body: unknown }) => {
      const response = op.responses[String(answer.status)];
      assert.ok(response, `${what}: status ${answer.status} is not documented (${JSON.stringify(answer.body)})`);
      assert.deepEqual(schemaProblems(response.content['application/json'].schema, answer.body), [], what);
    };
    // Starts first (their examples are sent as documented), then the run's other operations.
    const order = ['startRun', 'publishEvent'];
    const sequence = [
      ...order.map((id) => documented.find((d) => d.op.operationId === id)!),
      ...documented.filter((d) => !order.includes(d.op.operationId)),
    ];
    await withPipelineWorkers(env, api.config, [], async () => {
      for (const { method, path, op } of sequence) {
        const example = op.requestBody?.content['application/json'].example;
        const answer = await api.call(method, urlOf(path), { body: example });
        check(`${op.operationId} ${method} ${urlOf(path)}`, op, answer);
        if (op.requestBody) assert.equal(answer.status, 202, `${op.operationId}: its example starts work`);
        if (op.operationId === 'startRun') await api.finished(answer.body.status);
        if (op.security?.length !== 0) {
          const refused = await api.call(method, urlOf(path), { body: example, token: null });
          assert.equal(refused.status, 401);
          check(`${op.operationId} without a token`, op, refused);
        }
      }
    });
  });
});
