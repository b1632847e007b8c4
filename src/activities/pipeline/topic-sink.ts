/**
 * The `publish-to-topic` stage activity: a pipeline's sink. Each item that reaches the stage is
 * published to the stage's `sink.topic` as `{ id, data }`, keyed by the item ID, with an event ID
 * derived from pipeline, run and item (src/topics/sink-event-id.ts): a retried publish carries
 * the same ID, so the runs it starts downstream (named after the event ID) start once. Pipelines
 * chain across services this way: pipeline A's sink topic is pipeline B's subscribed topic.
 *
 * The engine calls a stage activity with the pipeline, run, stage and items only, so the topic is
 * read from the spec in the calling workflow's input (the first event of its history), once per
 * workflow run and process. A broker outage is waited out inside the attempt (heartbeating) until
 * just before the attempt's timeout, then the attempt fails retryably: an outage never
 * dead-letters an item (the validator refuses maximumAttempts on a sink stage).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { PipelineSpec } from '../../pipelines/spec';
import { kafkaBrokers } from '../../topics/kafka-brokers';
import { createEventPublisher, ensureTopics, errorText, type EventPublisher } from '../../topics/kafka-publisher';
import { sinkEventId } from '../../topics/sink-event-id';
import { faultPoint } from '../fault-point';
import { stageActivity } from './stage-activity';
import type { StageCall } from './types';

/** Kafka's default largest record is 1 MiB; the consumer dead-letters bigger ones. */
const maxRecordBytes = 1024 * 1024 - 1024;
/** Partitions of a sink topic this activity creates: consumers of the next pipeline can share it. */
const sinkTopicPartitions = 3;
/** Stop waiting for the broker this long before the attempt's start-to-close timeout. */
const attemptMarginMs = 3000;

const publishers = new Map<string, EventPublisher>();
const createdTopics = new Set<string>();
/** Sink topic by workflow run and stage: the spec is read from a run's history once. */
const topicsByRun = new Map<string, Record<string, string>>();
const runsKept = 256;

function publisherFor(brokers: string[]): EventPublisher {
  const key = brokers.join(',');
  let publisher = publishers.get(key);
  if (!publisher) {
    publisher = createEventPublisher({ brokers, clientId: 'batch-sink' });
    publishers.set(key, publisher);
  }
  return publisher;
}

/** Closes the sinks' producers (a worker shutting down, a test's end). */
export async function closeTopicSinks(): Promise<void> {
  const open = [...publishers.values()];
  publishers.clear();
  createdTopics.clear();
  await Promise.all(open.map((p) => p.close().catch(() => undefined)));
}

/** The sink topics of the calling workflow's spec, by stage name. */
async function sinkTopics(): Promise<Record<string, string>> {
  const context = Context.current();
  const { workflowExecution, namespace } = context.info;
  if (!workflowExecution)
    throw ApplicationFailure.nonRetryable('publish-to-topic runs only as a pipeline stage', 'InvalidInput');
  const key = `${workflowExecution.workflowId}\0${workflowExecution.runId}`;
  const known = topicsByRun.get(key);
  if (known) return known;
  const client = context.client;
  const page = await client.workflowService.getWorkflowExecutionHistory({
    namespace,
    execution: workflowExecution,
    maximumPageSize: 1,
  });
  const payloads = page.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
  const input = await decodeFromPayloadsAtIndex<{ spec?: PipelineSpec }>(
    client.options.loadedDataConverter,
    0,
    payloads,
  );
  const topics: Record<string, string> = {};
  for (const [name, stage] of Object.entries(input?.spec?.stages ?? {})) {
    if (stage.kind === 'activity' && stage.sink?.topic) topics[name] = stage.sink.topic;
  }
  topicsByRun.set(key, topics);
  if (topicsByRun.size > runsKept) topicsByRun.delete(topicsByRun.keys().next().value!);
  return topics;
}

async function topicOf(call: StageCall): Promise<string> {
  const topic = (await sinkTopics())[call.stage];
  if (!topic)
    throw ApplicationFailure.nonRetryable(
      `stage ${call.stage} of pipeline ${call.pipeline} runs publish-to-topic but names no sink topic; add "sink": { "topic": "<name>" } to it`,
      'InvalidInput',
    );
  return topic;
}

/** Publishes once the broker takes it; an outage is waited out (with backoff) until just before the attempt's timeout. */
async function publishWaiting(topic: string, event: { id: string; key: string; data: Record<string, unknown> }) {
  const context = Context.current();
  const brokers = kafkaBrokers();
  const deadline = Date.now() + context.info.startToCloseTimeoutMs - attemptMarginMs;
  let delay = 250;
  for (let tries = 1; ; tries++) {
    try {
      const topicKey = `${brokers.join(',')}/${topic}`;
      if (!createdTopics.has(topicKey)) {
        await ensureTopics(brokers, [{ name: topic, partitions: sinkTopicPartitions }]);
        createdTopics.add(topicKey);
      }
      return await publisherFor(brokers).publishEvent(topic, event);
    } catch (error) {
      const message = `Kafka (${brokers.join(',')}) did not take event ${event.id} for topic ${topic}: ${errorText(error)}`;
      if (tries === 1) context.log.warn(`${message}; waiting for the broker (BATCH_KAFKA_BROKERS)`);
      if (Date.now() + delay > deadline)
        throw ApplicationFailure.retryable(
          `${message}; the attempt timed out waiting, the next one tries again`,
          'KafkaUnavailable',
        );
      context.heartbeat({ waitingForBroker: topic, tries });
      await context.sleep(delay); // rejects when the activity is cancelled
      delay = Math.min(delay * 2, 5000);
    }
  }
}

export const publishToTopic = stageActivity(async (item, call) => {
  const topic = await topicOf(call);
  const event = { id: sinkEventId(call.pipeline, call.run, item.id), key: item.id, data: item.data };
  const bytes = Buffer.byteLength(JSON.stringify({ id: event.id, data: event.data }));
  if (bytes > maxRecordBytes)
    throw ApplicationFailure.nonRetryable(
      `item ${item.id} is ${bytes} bytes as an event, over Kafka's 1 MiB record limit; keep large content in files or the object store and put its path or URI in the item`,
      'InvalidInput',
    );
  await publishWaiting(topic, event);
  // Crash tests: the broker has the record, the activity has not completed.
  await faultPoint('sink-after-publish');
  return item.data;
});
