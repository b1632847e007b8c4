/**
 * Topics on Kafka for the event tier, in one call: the subscribed topics (and the dead-letter
 * topic) exist, publishing goes to the broker keyed by entity, and a consumer group member starts
 * the subscribed pipelines and flows through the event router. What `POST /topics/<t>/events`
 * and the inbox watcher call instead of `router.publish` when Kafka is on.
 */
import type { PipelineEvent } from '../core/pipeline-event';
import type { EventRouter } from './event-router';
import { runTopicConsumer, type TopicConsumer, type TopicConsumerOptions } from '../topics/kafka-consumer';
import { createEventPublisher, ensureTopics } from '../topics/kafka-publisher';
import { routerStart } from './router-start';

export interface KafkaRoutingOptions {
  brokers: string[];
  router: Pick<EventRouter, 'publish' | 'subscriptions'>;
  /** Paths in event data must lie under these (BATCH_INPUT_ROOTS), as for the API. */
  inputRoots: readonly string[];
  baseDir: string;
  groupId: string;
  deadLetterTopic: string;
  /** Partitions of topics this creates (default 3: up to three consumers share a topic). */
  partitions?: number;
  log?: (line: string) => void;
  consumer?: Partial<TopicConsumerOptions>;
}

/** What publishers (the API, the inbox watchers) need of Kafka: where it is, and publishing. */
export interface KafkaQueue {
  /** The bootstrap brokers, for messages (`BATCH_KAFKA_BROKERS`). */
  brokers: string[];
  /** Queues the event on its topic; resolves once the broker has it (KafkaUnavailableError otherwise: answer 503). */
  publish(topic: string, event: PipelineEvent, key?: string): Promise<{ partition: number; offset: bigint }>;
}

export interface KafkaRouting extends KafkaQueue {
  consumer: TopicConsumer;
  stop(): Promise<void>;
}

/**
 * The entity an event is about, as its record key (one key's events keep their order): the user
 * of a sign-up, the object of an upload, the file of an inbox event, else the event itself.
 */
export function entityKey(event: PipelineEvent): string {
  for (const field of ['userId', 'key', 'path']) {
    const value = event.data[field];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return event.id;
}

export async function startKafkaRouting(options: KafkaRoutingOptions): Promise<KafkaRouting> {
  const topics = Object.keys(options.router.subscriptions.topics);
  await ensureTopics(options.brokers, [
    ...topics.map((name) => ({ name, partitions: options.partitions ?? 3 })),
    { name: options.deadLetterTopic },
  ]);
  const publisher = createEventPublisher({ brokers: options.brokers });
  let consumer: TopicConsumer;
  try {
    consumer = await runTopicConsumer({
      brokers: options.brokers,
      groupId: options.groupId,
      topics,
      deadLetterTopic: options.deadLetterTopic,
      start: routerStart(options.router, options.inputRoots, options.baseDir),
      log: options.log,
      ...options.consumer,
    });
  } catch (error) {
    await publisher.close();
    throw error;
  }
  return {
    brokers: options.brokers,
    publish: (topic, event, key) => publisher.publishEvent(topic, { ...event, key: key ?? entityKey(event) }),
    consumer,
    async stop() {
      await consumer.stop();
      await publisher.close();
    },
  };
}
