/**
 * GET /topics and POST /topics/{topic}/events: the subscriptions, and publishing an event that
 * the event router (src/client/event-router.ts) turns into one run per subscribed pipeline and
 * flow, at most once per event ID. With Kafka on, the event is checked the same way, then queued
 * on the Kafka topic keyed by its entity, and the consumer group starts the runs (202 "queued").
 */
import type { PipelineEvent } from '../../core/pipeline-event';
import { UnknownTopicError } from '../../client/event-router';
import { KafkaUnavailableError } from '../../topics/kafka-publisher';
import type { KafkaQueue } from '../../client/kafka-routing';
import type { ApiContext, ApiRequest, ApiResponse } from '../context';
import { ApiError } from '../errors';
import { withPathsUnderRoots } from '../input-roots';
import type { PublishEventRequest } from '../schemas';
import { eventRunRef } from './run-ref';

export async function listTopics(_req: ApiRequest, ctx: ApiContext): Promise<ApiResponse> {
  const { topics, inboxes } = ctx.router.subscriptions;
  const body = Object.entries(topics).map(([topic, t]) => ({
    topic,
    description: t.description,
    pipelines: t.pipelines,
    flows: t.flows,
    inboxes: inboxes.filter((i) => i.topic === topic).map((i) => i.folder),
  }));
  return { status: 200, body: { topics: body } };
}

export async function publishEvent(
  req: ApiRequest<{ topic: string }, PublishEventRequest>,
  ctx: ApiContext,
): Promise<ApiResponse> {
  const topic = req.params.topic;
  // Own topics only: "__proto__" or "constructor" must not find Object.prototype's members.
  const { topics } = ctx.router.subscriptions;
  if (!Object.hasOwn(topics, topic)) throw new UnknownTopicError(topic, Object.keys(topics));
  const body = req.body;
  const [checked] = await withPathsUnderRoots(
    [{ data: body.data ?? {} }],
    () => '',
    ctx.config.api.inputRoots,
    ctx.baseDir,
  );
  const event: PipelineEvent = { id: body.id, data: checked.data };
  if (ctx.kafka) return queueOnKafka(ctx, ctx.kafka, topic, event);
  const runs = await ctx.router.publish(topic, event);
  const started = runs.some((r) => r.started);
  // 202: at least one run started now; 200: a repeat of an event already delivered, nothing new.
  return {
    status: started ? 202 : 200,
    body: { topic, event: event.id, runs: runs.map((r) => eventRunRef(ctx, r)) },
  };
}

/**
 * Kafka on: the same refusals as without it (400 for data a subscriber cannot take), then the
 * event is on the topic. The consumer group starts its runs, once per event ID, so the answer is
 * 202 "queued" with where the record is, even for a repeat (it starts nothing new).
 */
async function queueOnKafka(ctx: ApiContext, kafka: KafkaQueue, topic: string, event: PipelineEvent) {
  await ctx.router.check(topic, event);
  try {
    const { partition, offset } = await kafka.publish(topic, event);
    return {
      status: 202,
      body: { topic, event: event.id, runs: [], queued: { topic, partition, offset: String(offset) } },
    };
  } catch (error) {
    if (!(error instanceof KafkaUnavailableError)) throw error;
    // The broker's problem, never the client's: send the same event again later (same ID, one run).
    throw new ApiError(
      503,
      'KafkaUnavailable',
      `Kafka at ${kafka.brokers.join(',')} (BATCH_KAFKA_BROKERS) did not take the event; check that the broker runs, then send the same event again: its ID starts it once.`,
      { 'Retry-After': '5' },
    );
  }
}
