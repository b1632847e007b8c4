/**
 * The OpenAPI document stays true: it describes exactly the routes the router serves, its
 * request schemas are the ones requests are checked with, its examples are accepted by a live
 * server, and every operation answers with a documented status and a body of the documented shape.
 */
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { schemaProblems, type JsonSchema } from '../src/api/json-schema';
import { openApiDocument } from '../src/api/openapi';
import { apiRoutes } from '../src/api/routes';
import { TestApi } from './support/api';
import { withPipelineWorkers } from './support/pipeline-workers';
import { sharedDevServer } from './support/servers';

interface Operation {
  operationId: string;
  security?: unknown[];
  requestBody?: { content: { 'application/json': { schema: JsonSchema; example: unknown } } };
  responses: Record<string, { content: { 'application/json': { schema: JsonSchema } } }>;
}

/** Every operation of the document as [method, path, operation]. */
const documented = Object.entries(openApiDocument.paths).flatMap(([path, methods]) =>
  Object.entries(methods as Record<string, Operation>).map(([method, op]) => ({
    method: method.toUpperCase(),
    path,
    op,
  })),
);

describe('OpenAPI document', function () {
  let env: TestWorkflowEnvironment;
  let api: TestApi;
  before(async () => {
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
      assert.equal(body?.schema, route.body, `${route.operationId}: documented body schema`);
      if (body) assert.deepEqual(schemaProblems(body.schema, body.example), [], `${route.operationId}: example`);
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
    assert.deepEqual(body, JSON.parse(JSON.stringify(openApiDocument)));
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
