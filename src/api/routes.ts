/**
 * Every route the API serves, in one table: method, path template (OpenAPI syntax), its TypeBox
 * schemas (path parameters, body, answers), its OpenAPI summary and its handler. src/api/app.ts
 * registers exactly these with fastify, @fastify/swagger documents exactly these, and
 * test/api-openapi.test.ts checks both.
 */
import type { FastifyInstance } from 'fastify';
import { type Static, type TSchema, Type } from 'typebox';
import type { ApiContext, ApiRequest, ApiResponse } from './context';
import { getDeadLetters, redrive } from './handlers/dead-letters';
import { listTopics, publishEvent } from './handlers/events';
import { listPipelines, startRun } from './handlers/pipelines';
import { getRun } from './handlers/runs';
import {
  deadLetterListSchema,
  errorSchema,
  eventPublishedSchema,
  pipelineListSchema,
  pipelineParams,
  publishEventRequestSchema,
  redriveResultSchema,
  runParams,
  runStartedSchema,
  runStatusSchema,
  startRunRequestSchema,
  topicListSchema,
  topicParams,
} from './schemas';

/** One documented answer: what it means and the shape of its JSON body. */
interface Answer {
  description: string;
  content: { 'application/json': { schema: TSchema } };
}

export interface Route {
  method: 'GET' | 'POST';
  /** e.g. `/pipelines/{pipeline}/runs`; `{name}` matches one path segment. */
  path: string;
  operationId: string;
  summary: string;
  params?: TSchema;
  /** The JSON body it takes; absent: it takes none. */
  body?: TSchema;
  responses: Record<string, Answer>;
  /** Served without the bearer token. */
  public?: boolean;
  /** Method syntax: each route's handler takes its own typed request. */
  handle(req: ApiRequest<unknown, unknown>, ctx: ApiContext, app: FastifyInstance): Promise<ApiResponse>;
}

type Parsed<S, Otherwise> = S extends TSchema ? Static<S> : Otherwise;

/** A route whose handler is type-checked against its schemas (what Ajv lets through). */
function route<P extends TSchema | undefined = undefined, B extends TSchema | undefined = undefined>(
  r: Omit<Route, 'params' | 'body' | 'handle'> & {
    params?: P;
    body?: B;
    handle: (
      req: ApiRequest<Parsed<P, Record<string, string>>, Parsed<B, undefined>>,
      ctx: ApiContext,
      app: FastifyInstance,
    ) => Promise<ApiResponse>;
  },
): Route {
  return r as Route;
}

const answer = (description: string, schema: TSchema): Answer => ({
  description,
  content: { 'application/json': { schema } },
});
const failure = (description: string) => answer(description, errorSchema);
const unauthorized = failure('No bearer token, or a wrong one.');
const unknownRun = failure('No such run of this pipeline.');
const runPath = '/pipelines/{pipeline}/runs/{run}';

export const apiRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    public: true,
    responses: { '200': answer('The OpenAPI document.', Type.Unsafe<object>({ type: 'object' })) },
    handle: async (_req, _ctx, app) => ({ status: 200, body: app.swagger() }),
  }),
  route({
    method: 'GET',
    path: '/pipelines',
    operationId: 'listPipelines',
    summary: 'The pipelines that can be started by name, with their descriptions',
    responses: { '200': answer('The pipelines.', pipelineListSchema), '401': unauthorized },
    handle: listPipelines,
  }),
  route({
    method: 'POST',
    path: '/pipelines/{pipeline}/runs',
    operationId: 'startRun',
    summary: 'Start a run of a pipeline on inline items or on a source path under the input roots',
    params: pipelineParams,
    body: startRunRequestSchema,
    responses: {
      '202': answer('Started.', runStartedSchema),
      '200': answer('A run of this name existed already; nothing new was started.', runStartedSchema),
      '400': failure('The body is not valid, or the source path is outside the input roots, missing or unusable.'),
      '401': unauthorized,
      '404': failure('No such pipeline.'),
      '413': failure('The body is larger than 1 MiB; send a source path instead.'),
    },
    handle: startRun,
  }),
  route({
    method: 'GET',
    path: runPath,
    operationId: 'getRun',
    summary: "A run's status and progress (done, dropped, dead-lettered, running, per stage)",
    params: runParams,
    responses: { '200': answer('The run.', runStatusSchema), '401': unauthorized, '404': unknownRun },
    handle: getRun,
  }),
  route({
    method: 'GET',
    path: `${runPath}/dead-letters`,
    operationId: 'listDeadLetters',
    summary: "A finished run's dead letters: item, stage, attempts, error, input",
    params: runParams,
    responses: {
      '200': answer('The dead letters.', deadLetterListSchema),
      '401': unauthorized,
      '404': unknownRun,
      '409': failure('The run is still running.'),
    },
    handle: getDeadLetters,
  }),
  route({
    method: 'POST',
    path: `${runPath}/dead-letters/redrive`,
    operationId: 'redriveDeadLetters',
    summary: 'Run the dead letters again from the stage they failed at, at a lower priority than new work',
    params: runParams,
    responses: {
      '202': answer('Redrive runs started (or found: redriving twice starts nothing new).', redriveResultSchema),
      '200': answer('The run has no dead letters.', redriveResultSchema),
      '401': unauthorized,
      '404': unknownRun,
      '409': failure('The run is still running.'),
    },
    handle: redrive,
  }),
  route({
    method: 'GET',
    path: '/topics',
    operationId: 'listTopics',
    summary: 'Topics, the pipelines and flows subscribed to each, and the inbox folders publishing to them',
    responses: { '200': answer('The topics.', topicListSchema), '401': unauthorized },
    handle: listTopics,
  }),
  route({
    method: 'POST',
    path: '/topics/{topic}/events',
    operationId: 'publishEvent',
    summary:
      'Publish an event: every subscribed pipeline runs on it once (workflow ID <pipeline>/event-<id>), and every subscribed flow: transcode (transcode/event-<id>), signup (signup/<userId>)',
    params: topicParams,
    body: publishEventRequestSchema,
    responses: {
      '202': answer(
        'Runs started, or, with Kafka on, the event queued on the Kafka topic (queued).',
        eventPublishedSchema,
      ),
      '200': answer('The event was published before: the runs it started, nothing new.', eventPublishedSchema),
      '400': failure(
        'The body is not valid, a data.path is outside the input roots, or a subscribed flow cannot take the data (BadEvent: the message says what it needs).',
      ),
      '401': unauthorized,
      '404': failure('No such topic.'),
      '413': failure('The body is larger than 1 MiB.'),
      '503': failure('Kafka is on and its broker did not take the event (KafkaUnavailable): send it again later.'),
    },
    handle: publishEvent,
  }),
];
