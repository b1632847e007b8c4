/**
 * Publishing events to Kafka topics. Each event is keyed by its entity (the user ID for sign-ups,
 * the object key for uploads): Kafka keeps one key's records in one partition, in order, and the
 * consumer starts them in that order. The value is `{"id", "data"}`, the shape the consumer reads.
 */
import { Admin, Producer, ProduceAcks } from '@platformatic/kafka';

export interface PublishedEvent {
  /** The event's ID (names the runs it starts; the same ID is the same event). */
  id: string;
  /** The entity the event is about; events with the same key keep their order. Defaults to the ID. */
  key?: string;
  data: Record<string, unknown>;
}

export interface TopicSpec {
  name: string;
  /** More partitions let more consumers share the topic; order holds per key, not across keys. */
  partitions?: number;
}

/** The broker could not be reached or did not take the record: the caller should answer 503 / keep the file. */
export class KafkaUnavailableError extends Error {
  override name = 'KafkaUnavailableError';
}

export interface EventPublisher {
  publishEvent(topic: string, event: PublishedEvent): Promise<{ partition: number; offset: bigint }>;
  close(): Promise<void>;
}

export function createEventPublisher(options: {
  brokers: string[];
  clientId?: string;
  timeoutMs?: number;
}): EventPublisher {
  const producer = new Producer({
    clientId: options.clientId ?? 'batch-publisher',
    bootstrapBrokers: options.brokers,
    // Every in-sync replica has it before we say "published"; retries do not duplicate or reorder.
    acks: ProduceAcks.ALL,
    idempotent: true,
    timeout: options.timeoutMs ?? 5000,
    retries: 2,
    retryDelay: 250,
  });
  // @platformatic/kafka 1.35's idempotent producer gives concurrent sends to one partition the
  // same sequence number: the broker keeps the first and acknowledges the others as duplicates,
  // which are lost. So one send at a time (test/kafka-sink.test.ts).
  let turn: Promise<unknown> = Promise.resolve();
  return {
    publishEvent(topic, event) {
      const sent = turn.then(() => send(topic, event));
      turn = sent.catch(() => undefined);
      return sent;
    },
    close: () => producer.close(),
  };

  async function send(topic: string, event: PublishedEvent): Promise<{ partition: number; offset: bigint }> {
    const value = Buffer.from(JSON.stringify({ id: event.id, data: event.data }));
    try {
      const result = await producer.send({
        messages: [{ topic, key: Buffer.from(event.key ?? event.id), value }],
      });
      const written = result.offsets?.[0];
      return { partition: written?.partition ?? 0, offset: written?.offset ?? -1n };
    } catch (error) {
      throw new KafkaUnavailableError(
        `Kafka did not take the event ${event.id} for topic ${topic} (${errorText(error)}); ` +
          'check that the broker runs (BATCH_KAFKA_BROKERS) and that the topic exists, then send it again: the same ID is started once.',
        { cause: error },
      );
    }
  }
}

/** Creates the topics that do not exist yet (the broker the project starts does not create them on first use). */
export async function ensureTopics(brokers: string[], topics: TopicSpec[]): Promise<void> {
  const admin = new Admin({ clientId: 'batch-topics', bootstrapBrokers: brokers });
  try {
    const existing = new Set(await admin.listTopics());
    for (const topic of topics) {
      if (existing.has(topic.name)) continue;
      try {
        await admin.createTopics({ topics: [topic.name], partitions: topic.partitions ?? 1, replicas: -1 });
      } catch (error) {
        // Someone else created it meanwhile.
        if (!/already exists/i.test(errorText(error))) throw error;
      }
    }
  } finally {
    await admin.close();
  }
}

/** The library wraps broker errors in AggregateErrors: the inner messages say what went wrong. */
export function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return `${error.message}: ${error.errors.map(errorText).join('; ')}`;
  }
  return error instanceof Error ? error.message : String(error);
}
