/**
 * The OpenAPI 3 document of the API (served at GET /openapi.json). Bodies use the very schemas
 * the server checks requests with (src/api/schemas.ts); test/api-openapi.test.ts keeps the paths
 * equal to the routes the router serves and sends every example request to a live server.
 */
import type { JsonSchema } from './json-schema';
import {
  deadLetterListSchema,
  errorSchema,
  eventPublishedSchema,
  pipelineListSchema,
  publishEventRequestSchema,
  redriveResultSchema,
  runStartedSchema,
  runStatusSchema,
  startRunRequestSchema,
  topicListSchema,
} from './schemas';

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const answer = (description: string, schema: JsonSchema) => ({ description, content: json(schema) });
const failure = (description: string) => answer(description, errorSchema);

const unauthorized = failure('No bearer token, or a wrong one.');
const pathParameter = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});
const pipelineParameter = pathParameter('pipeline', 'a pipeline name (GET /pipelines)');
const runParameters = [pipelineParameter, pathParameter('run', 'the run name the start answered')];
const unknownRun = failure('No such run of this pipeline.');

export const openApiDocument = {
  openapi: '3.0.3',
  info: {
    title: 'temporal-batch API',
    version: '0.1.0',
    description:
      'Start pipeline runs, follow their progress, list and redrive dead letters, and publish events that start every subscribed pipeline and flow (at most once per event ID). Every route but this document needs "Authorization: Bearer <token>". Bad input is answered 4xx with {"error", "message"}; the message says what to change.',
  },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  security: [{ bearer: [] }],
  paths: {
    '/openapi.json': {
      get: {
        operationId: 'getOpenApi',
        summary: 'This document',
        security: [],
        responses: { '200': answer('The OpenAPI document.', { type: 'object' }) },
      },
    },
    '/pipelines': {
      get: {
        operationId: 'listPipelines',
        summary: 'The pipelines that can be started by name, with their descriptions',
        responses: { '200': answer('The pipelines.', pipelineListSchema), '401': unauthorized },
      },
    },
    '/pipelines/{pipeline}/runs': {
      post: {
        operationId: 'startRun',
        summary: 'Start a run of a pipeline on inline items or on a source path under the input roots',
        parameters: [pipelineParameter],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: startRunRequestSchema, example: startRunRequestSchema.example } },
        },
        responses: {
          '202': answer('Started.', runStartedSchema),
          '200': answer('A run of this name existed already; nothing new was started.', runStartedSchema),
          '400': failure('The body is not valid, or the source path is outside the input roots, missing or unusable.'),
          '401': unauthorized,
          '404': failure('No such pipeline.'),
          '413': failure('The body is larger than 1 MiB; send a source path instead.'),
        },
      },
    },
    '/pipelines/{pipeline}/runs/{run}': {
      get: {
        operationId: 'getRun',
        summary: "A run's status and progress (done, dropped, dead-lettered, running, per stage)",
        parameters: runParameters,
        responses: { '200': answer('The run.', runStatusSchema), '401': unauthorized, '404': unknownRun },
      },
    },
    '/pipelines/{pipeline}/runs/{run}/dead-letters': {
      get: {
        operationId: 'listDeadLetters',
        summary: "A finished run's dead letters: item, stage, attempts, error, input",
        parameters: runParameters,
        responses: {
          '200': answer('The dead letters.', deadLetterListSchema),
          '401': unauthorized,
          '404': unknownRun,
          '409': failure('The run is still running.'),
        },
      },
    },
    '/pipelines/{pipeline}/runs/{run}/dead-letters/redrive': {
      post: {
        operationId: 'redriveDeadLetters',
        summary: 'Run the dead letters again from the stage they failed at, at a lower priority than new work',
        parameters: runParameters,
        responses: {
          '202': answer('Redrive runs started (or found: redriving twice starts nothing new).', redriveResultSchema),
          '200': answer('The run has no dead letters.', redriveResultSchema),
          '401': unauthorized,
          '404': unknownRun,
          '409': failure('The run is still running.'),
        },
      },
    },
    '/topics': {
      get: {
        operationId: 'listTopics',
        summary: 'Topics, the pipelines and flows subscribed to each, and the inbox folders publishing to them',
        responses: { '200': answer('The topics.', topicListSchema), '401': unauthorized },
      },
    },
    '/topics/{topic}/events': {
      post: {
        operationId: 'publishEvent',
        summary:
          'Publish an event: every subscribed pipeline runs on it once (workflow ID <pipeline>/event-<id>), and every subscribed flow: transcode (transcode/event-<id>), signup (signup/<userId>)',
        parameters: [pathParameter('topic', 'a topic name (GET /topics)')],
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: publishEventRequestSchema, example: publishEventRequestSchema.example },
          },
        },
        responses: {
          '202': answer('Runs started.', eventPublishedSchema),
          '200': answer('The event was published before: the runs it started, nothing new.', eventPublishedSchema),
          '400': failure(
            'The body is not valid, a data.path is outside the input roots, or a subscribed flow cannot take the data (BadEvent: the message says what it needs).',
          ),
          '401': unauthorized,
          '404': failure('No such topic.'),
          '413': failure('The body is larger than 1 MiB.'),
        },
      },
    },
  },
};
