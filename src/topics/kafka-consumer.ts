/**
 * The consumer group that turns topic records into workflow starts. For each record, in offset
 * order: parse it (src/topics/topic-events.ts), call `start` for each event it carries, and commit
 * the record's offset only once every start was accepted or found already done. A crash between
 * start and commit redelivers the record; the workflow ID derived from the event ID makes that
 * second start a no-op, so each event runs once (within the namespace's retention of closed runs).
 *
 * - A record that can never start (too big, not JSON, unknown shape, refused by `start` with a
 *   PoisonEventError) is copied to the dead-letter topic with its reason, then committed.
 * - Any other failure of `start` (Temporal unreachable, overloaded) pauses the consumer: nothing
 *   is committed or dead-lettered, the start is retried with backoff, and consuming resumes.
 * - Records are handled one at a time, so a key's events (one partition) start in offset order.
 */
import { Consumer, Producer, ProduceAcks, type Message, type MessagesStream } from '@platformatic/kafka';
import { deadLetterFor } from './dead-letters';
import type { RecordPosition } from './event-ids';
import { errorText } from './kafka-publisher';
import { parseTopicRecord, type TopicEvent } from './topic-events';

export type StartOutcome = 'started' | 'deduplicated';

/** Thrown by `start` for an event that no retry can start (e.g. refused by its subscribers): dead-lettered. */
export class PoisonEventError extends Error {
  override name = 'PoisonEventError';
}

export interface TopicConsumerOptions {
  brokers: string[];
  groupId: string;
  topics: string[];
  /** Starts the event's runs (workflow IDs derived from `event.id`); resolves once accepted or deduplicated. */
  start: (event: TopicEvent) => Promise<StartOutcome>;
  deadLetterTopic: string;
  /** Which errors of `start` mean "this event can never start" (default: PoisonEventError). */
  isPoison?: (error: unknown) => boolean;
  /** Records larger than this are dead-lettered unread (default 1 MiB). */
  maxEventBytes?: number;
  clientId?: string;
  /** A member that stops heartbeating loses its partitions after this long (default 10 s). */
  sessionTimeoutMs?: number;
  /** Backoff while `start` fails for a reason other than the event: from 200 ms doubling up to this (default 10 s). */
  maxRetryDelayMs?: number;
  log?: (line: string) => void;
  /** Called after each record is committed (tests, metrics). */
  onRecord?: (report: RecordReport) => void;
}

export interface RecordReport {
  position: RecordPosition;
  outcome: 'started' | 'dead-lettered' | 'skipped';
  events: { id: string; outcome: StartOutcome }[];
  reason?: string;
}

export interface TopicConsumer {
  /** Resolves when the consumer was stopped (it reconnects by itself when the broker goes away). */
  readonly done: Promise<void>;
  /** True while `start` keeps failing and the consumer waits to retry (nothing is committed meanwhile). */
  readonly paused: boolean;
  /** Leaves the group (its partitions move to the other members) and closes the connections. */
  stop(): Promise<void>;
}

const faultPoint = 'kafka-after-start';

export async function runTopicConsumer(options: TopicConsumerOptions): Promise<TopicConsumer> {
  const log = options.log ?? (() => undefined);
  const isPoison = options.isPoison ?? ((error: unknown) => error instanceof PoisonEventError);
  const maxEventBytes = options.maxEventBytes ?? 1024 * 1024;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
  const clientId = options.clientId ?? `batch-consumer-${process.pid}`;
  const newConsumer = () =>
    new Consumer({
      groupId: options.groupId,
      clientId,
      bootstrapBrokers: options.brokers,
      autocommit: false,
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 500,
      rebalanceTimeout: 30_000,
      maxWaitTime: 500,
      // Few records buffered: a paused consumer holds little, and a rebalance re-reads little.
      highWaterMark: 32,
    });
  const deadLetters = new Producer({
    clientId: `${clientId}-dead-letters`,
    bootstrapBrokers: options.brokers,
    acks: ProduceAcks.ALL,
    idempotent: true,
  });
  let stopping = false;
  let paused = false;
  type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;
  /** Joins the group and opens its stream from the committed offsets. */
  async function connect(): Promise<{ consumer: Consumer<Buffer, Buffer, Buffer, Buffer>; stream: Stream }> {
    const consumer = newConsumer();
    try {
      const stream = await consumer.consume({ topics: options.topics, mode: 'committed', fallbackMode: 'earliest' });
      return { consumer, stream };
    } catch (error) {
      await (consumer.close(true) as unknown as Promise<void>).catch(() => undefined);
      throw error;
    }
  }
  let current: { consumer: Consumer<Buffer, Buffer, Buffer, Buffer>; stream: Stream } | undefined;
  try {
    // The first connection fails loudly (a wrong address is found at start-up); later ones are retried.
    current = await connect();
  } catch (error) {
    await deadLetters.close().catch(() => undefined);
    throw error;
  }

  /** Retries `work` with backoff until it succeeds or the consumer stops; `what` says what waits. */
  async function untilDone<T>(what: string, work: () => Promise<T>): Promise<T | undefined> {
    let delay = 200;
    for (;;) {
      try {
        const result = await work();
        if (paused) log(`resumed: ${what} succeeded`);
        paused = false;
        return result;
      } catch (error) {
        if (isPoison(error)) throw error;
        if (stopping) return undefined;
        if (!paused) log(`paused: ${what} failed (${errorText(error)}); retrying, nothing is committed meanwhile`);
        paused = true;
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, maxRetryDelayMs);
      }
    }
  }

  async function handle(message: Message<Buffer, Buffer, Buffer, Buffer>): Promise<void> {
    const position: RecordPosition = { topic: message.topic, partition: message.partition, offset: message.offset };
    const where = `${position.topic}/${position.partition}@${position.offset}`;
    const parsed = parseTopicRecord(message.value, message.key, position, maxEventBytes);
    let report: RecordReport;
    if ('poison' in parsed) {
      report = { position, outcome: 'dead-lettered', events: [], reason: parsed.poison };
    } else {
      report = {
        position,
        outcome: parsed.events.length > 0 ? 'started' : 'skipped',
        events: [],
        reason: parsed.skipped,
      };
      for (const event of parsed.events) {
        try {
          const outcome = await untilDone(`starting event ${event.id} (${where})`, () => options.start(event));
          if (outcome === undefined) return; // stopping: not committed, the next owner redelivers it
          report.events.push({ id: event.id, outcome });
        } catch (error) {
          // Refused for good: the whole record goes to the dead-letter topic (its other events were started or are dupes).
          report = { ...report, outcome: 'dead-lettered', reason: `event ${event.id} refused: ${errorText(error)}` };
          break;
        }
      }
    }
    if (report.outcome === 'dead-lettered') {
      const letter = deadLetterFor(report.reason!, position, message.key, message.value);
      const sent = await untilDone(`writing ${where} to dead-letter topic ${options.deadLetterTopic}`, () =>
        deadLetters.send({
          messages: [
            {
              topic: options.deadLetterTopic,
              key: message.key ?? undefined,
              value: Buffer.from(JSON.stringify(letter)),
            },
          ],
        }),
      );
      if (sent === undefined) return;
      log(`dead-lettered ${where}: ${report.reason}`);
    } else if (report.outcome === 'skipped') {
      log(`skipped ${where}: ${report.reason}`);
    }
    if (process.env.BATCH_FAULT_PAUSE === faultPoint) {
      log(`fault point ${faultPoint} reached at ${where}; holding until this process is killed (BATCH_FAULT_PAUSE)`);
      await new Promise<never>(() => undefined);
    }
    try {
      await message.commit();
    } catch (error) {
      // Typically a rebalance moved the partition: its new owner re-reads from the last commit and
      // the starts above are deduplicated there. Nothing is lost by not committing.
      log(`commit of ${where} not taken (${errorText(error)}); the record may be delivered again`);
    }
    options.onRecord?.(report);
  }

  const done = (async () => {
    let delay = 500;
    try {
      while (!stopping) {
        try {
          current ??= await connect();
          if (stopping) break;
          for await (const message of current.stream) {
            if (stopping) break;
            await handle(message);
            delay = 500;
            if (stopping) break;
          }
          if (!stopping) throw new Error('the record stream ended');
        } catch (error) {
          if (stopping) break;
          // The broker went away (restart, network): nothing past the last commit is lost, so
          // join the group again from the committed offsets once it is back.
          log(`Kafka consumer lost its connection (${errorText(error)}); reconnecting in ${delay} ms`);
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, maxRetryDelayMs);
        } finally {
          const closing = current;
          current = undefined;
          if (closing) {
            await Promise.allSettled([closing.stream.close()]);
            await Promise.allSettled([closing.consumer.close(true) as unknown as Promise<void>]);
          }
        }
      }
    } finally {
      stopping = true;
      await Promise.allSettled([deadLetters.close()]);
    }
  })();

  return {
    done,
    get paused() {
      return paused;
    },
    async stop() {
      stopping = true;
      // Closing the stream ends the loop above (after the record in hand), which then leaves the group.
      await current?.stream.close().catch(() => undefined);
      await done.catch(() => undefined);
    },
  };
}
