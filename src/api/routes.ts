/**
 * Every route the API serves, in one table: method, path template (OpenAPI syntax), the JSON body
 * schema it takes, and its handler. The router serves exactly these, and test/api-openapi.test.ts
 * checks the OpenAPI document describes exactly these.
 */
import type { ApiContext, ApiRequest, ApiResponse } from './context';
import { getDeadLetters, redrive } from './handlers/dead-letters';
import { listTopics, publishEvent } from './handlers/events';
import { listPipelines, startRun } from './handlers/pipelines';
import { getRun } from './handlers/runs';
import type { JsonSchema } from './json-schema';
import { openApiDocument } from './openapi';
import { publishEventRequestSchema, startRunRequestSchema } from './schemas';

export interface Route {
  method: 'GET' | 'POST';
  /** e.g. `/pipelines/{pipeline}/runs`; `{name}` matches one path segment. */
  path: string;
  operationId: string;
  /** The JSON body it takes; absent: it takes none. */
  body?: JsonSchema;
  /** Served without the bearer token. */
  public?: boolean;
  handle: (req: ApiRequest, ctx: ApiContext) => Promise<ApiResponse>;
}

const runPath = '/pipelines/{pipeline}/runs/{run}';

export const apiRoutes: readonly Route[] = [
  {
    method: 'GET',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    public: true,
    handle: async () => ({ status: 200, body: openApiDocument }),
  },
  { method: 'GET', path: '/pipelines', operationId: 'listPipelines', handle: listPipelines },
  {
    method: 'POST',
    path: '/pipelines/{pipeline}/runs',
    operationId: 'startRun',
    body: startRunRequestSchema,
    handle: startRun,
  },
  { method: 'GET', path: runPath, operationId: 'getRun', handle: getRun },
  { method: 'GET', path: `${runPath}/dead-letters`, operationId: 'listDeadLetters', handle: getDeadLetters },
  { method: 'POST', path: `${runPath}/dead-letters/redrive`, operationId: 'redriveDeadLetters', handle: redrive },
  { method: 'GET', path: '/topics', operationId: 'listTopics', handle: listTopics },
  {
    method: 'POST',
    path: '/topics/{topic}/events',
    operationId: 'publishEvent',
    body: publishEventRequestSchema,
    handle: publishEvent,
  },
];
