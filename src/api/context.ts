/**
 * What the API's handlers work with: the Temporal client, the configuration, the pipelines it
 * offers by name and the event router. Built once by the server, shared by every request.
 */
import type { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import type { EventRouter } from '../client/event-router';
import type { PipelineCatalog } from '../pipelines/catalog';
import type { BatchConfig } from '../infra/config';
import type { KafkaQueue } from '../client/kafka-routing';

export interface ApiContext {
  client: Client;
  config: BatchConfig;
  catalog: PipelineCatalog;
  router: EventRouter;
  /** The bearer token every request but GET /openapi.json must carry. */
  token: string;
  /** Relative source paths in requests are resolved against this folder (the project folder). */
  baseDir: string;
  /** With Kafka on (`npm start -- --kafka`): events are queued on its topics, and its consumer group starts the runs. */
  kafka?: KafkaQueue;
  /** Where request counts and durations go (src/infra/telemetry); none: not measured. */
  meter?: MetricMeter;
}

/**
 * A request as a handler sees it: path parameters decoded, the body parsed and checked by fastify
 * against the route's TypeBox schemas (src/api/routes.ts), typed after them.
 */
export interface ApiRequest<Params = Record<string, string>, Body = undefined> {
  params: Params;
  body: Body;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}
