/**
 * Topics on a real Kafka broker (started by the test) feeding real workflow starts on the shared
 * dev server: the round trip, the dead-letter topic, per-key order, a member joining and leaving
 * the group mid-stream, and a pause while Temporal is unreachable.
 */
import assert from 'node:assert/strict';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { KafkaBroker } from '../src/devstack/kafka-broker';
import { sleep, waitFor } from '../src/infra/wait';
import type { DeadLetter } from '../src/topics/dead-letters';
import { objectCreatedEventId } from '../src/topics/event-ids';
import {
  runTopicConsumer,
  type RecordReport,
  type TopicConsumer,
  type TopicConsumerOptions,
} from '../src/topics/kafka-consumer';
import { createEventPublisher, ensureTopics, type EventPublisher } from '../src/topics/kafka-publisher';
import { readTopic, runsOn, sharedKafkaBroker, temporalStart, terminateRunsOn, workflowIdFor } from './support/kafka';
import { TcpProxy } from './support/tcp-proxy';
import { sharedDevServer } from './support/servers';

describe('Kafka topics: consumer group starting workflows', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let broker: KafkaBroker;
  let publisher: EventPublisher;
  const consumers: TopicConsumer[] = [];
  const taskQueues: string[] = [];
  let n = 0;

  /** A fresh topic, dead-letter topic, group and task queue per test, so tests do not see each other's records. */
  async function scenario(partitions = 1) {
    const name = `t${process.pid}-${++n}`;
    const topic = `events.${name}`;
    const deadLetterTopic = `dead.${name}`;
    await ensureTopics([broker.bootstrap], [{ name: topic, partitions }, { name: deadLetterTopic }]);
    const taskQueue = `kafka-${name}`;
    taskQueues.push(taskQueue);
    const reports: RecordReport[] = [];
    const consume = async (client: Client = env.client, extra: Partial<TopicConsumerOptions> = {}) => {
      const consumer = await runTopicConsumer({
        brokers: [broker.bootstrap],
        groupId: `group-${name}`,
        topics: [topic],
        deadLetterTopic,
        start: temporalStart(client, taskQueue, name),
        sessionTimeoutMs: 3000,
        onRecord: (report) => reports.push(report),
        ...extra,
      });
      consumers.push(consumer);
      return consumer;
    };
    return { name, topic, deadLetterTopic, taskQueue, reports, consume };
  }

  before(async function () {
    [env, broker] = await Promise.all([sharedDevServer(), sharedKafkaBroker()]);
    publisher = createEventPublisher({ brokers: [broker.bootstrap] });
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
  });
  after(async () => {
    await publisher?.close();
    for (const queue of taskQueues) await terminateRunsOn(env.client, queue);
  });

  it('starts one workflow per published event, named after the event ID, and commits its offset', async () => {
    const s = await scenario();
    await s.consume();
    for (const i of [1, 2, 3]) await publisher.publishEvent(s.topic, { id: `evt-${i}`, key: 'user-1', data: { i } });
    await waitFor('3 records handled', async () => s.reports.length >= 3, 30_000, 100);

    assert.deepEqual(
      s.reports.map((r) => r.events),
      [1, 2, 3].map((i) => [{ id: `evt-${i}`, outcome: 'started' }]),
    );
    const runs = await runsOn(env.client, s.taskQueue, 3);
    assert.deepEqual(
      runs.map((r) => r.workflowId).sort(),
      [1, 2, 3].map((i) => workflowIdFor(s.name, `evt-${i}`)),
    );

    // A second consumer of the same group starts from the committed offsets: nothing is read again.
    await consumers.pop()!.stop();
    const before = s.reports.length;
    await s.consume();
    await publisher.publishEvent(s.topic, { id: 'evt-4', key: 'user-1', data: {} });
    await waitFor('the 4th record handled', async () => s.reports.length > before, 30_000, 100);
    assert.deepEqual(
      s.reports.slice(before).map((r) => r.events),
      [[{ id: 'evt-4', outcome: 'started' }]],
    );
  });

  it('gives events without an ID one from their content (S3 bucket/key/ETag) or their position', async () => {
    const s = await scenario();
    await s.consume();
    const notification = {
      Records: [
        {
          eventName: 's3:ObjectCreated:Put',
          s3: { bucket: { name: 'uploads' }, object: { key: 'cats/my+cat.mp4', eTag: '"abc123"', size: 42 } },
        },
      ],
    };
    await publishRaw(s.topic, 'uploads/cats/my cat.mp4', JSON.stringify(notification));
    await publishRaw(s.topic, 'user-9', JSON.stringify({ data: { plan: 'free' } }));
    // The same upload notified twice (at-least-once from the gateway) is one event.
    await publishRaw(s.topic, 'uploads/cats/my cat.mp4', JSON.stringify(notification));
    await waitFor('3 records handled', async () => s.reports.length >= 3, 30_000, 100);

    const s3Id = objectCreatedEventId('uploads', 'cats/my cat.mp4', '"abc123"');
    assert.match(s3Id, /^s3-my-cat-mp4-[0-9a-f]{24}$/);
    assert.deepEqual(
      s.reports.map((r) => r.events),
      [
        [{ id: s3Id, outcome: 'started' }],
        [{ id: `${s.topic}-p0-o1`, outcome: 'started' }],
        [{ id: s3Id, outcome: 'deduplicated' }],
      ],
    );
    const run = await env.client.workflow.getHandle(workflowIdFor(s.name, s3Id)).describe();
    assert.equal(run.status.name, 'RUNNING');
  });

  it('sends poison records to the dead-letter topic with the reason and keeps the partition moving', async () => {
    const s = await scenario();
    await s.consume(env.client, { maxEventBytes: 64 * 1024 });
    await publishRaw(s.topic, 'k', '{"id": "broken"'); // bad JSON
    await publishRaw(s.topic, 'k', JSON.stringify({ id: 'ok-1', data: [1, 2] })); // data not an object
    await publishRaw(s.topic, 'k', JSON.stringify({ id: 'x'.repeat(20), data: {}, extra: true })); // unknown field
    await publishRaw(s.topic, 'k', JSON.stringify({ id: 'has space', data: {} })); // unusable ID
    await publishRaw(s.topic, 'k', JSON.stringify({ id: 'big', data: { blob: 'x'.repeat(100 * 1024) } })); // oversized
    await publisher.publishEvent(s.topic, { id: 'after-poison', key: 'k', data: {} });
    await waitFor('6 records handled', async () => s.reports.length >= 6, 30_000, 100);

    assert.deepEqual(
      s.reports.map((r) => r.outcome),
      ['dead-lettered', 'dead-lettered', 'dead-lettered', 'dead-lettered', 'dead-lettered', 'started'],
    );
    const letters = (await readTopic([broker.bootstrap], s.deadLetterTopic, 5)).map(
      (m) => JSON.parse(m.value.toString()) as DeadLetter,
    );
    assert.deepEqual(
      letters.map((l) => [l.topic, l.partition, l.offset]),
      [0, 1, 2, 3, 4].map((offset) => [s.topic, 0, String(offset)]),
    );
    assert.match(letters[0].reason, /^not JSON/);
    assert.equal(letters[0].value, '{"id": "broken"');
    assert.match(letters[1].reason, /"data" is a list, expected an object/);
    assert.match(letters[2].reason, /unknown shape: field\(s\) extra/);
    assert.match(letters[3].reason, /bad event id "has space"/);
    assert.match(letters[4].reason, /^oversized: \d+ bytes/);
    assert.equal(letters[4].truncated, true);
    // Only the good event started anything.
    assert.deepEqual(
      (await runsOn(env.client, s.taskQueue, 1)).map((r) => r.workflowId),
      [workflowIdFor(s.name, 'after-poison')],
    );
  });

  it("starts each key's events in offset order across partitions", async () => {
    const s = await scenario(3);
    const keys = ['alice', 'bob', 'carol', 'dave'];
    const sent: Record<string, string[]> = {};
    // Published before the consumer joins: it finds a backlog on every partition.
    for (let i = 0; i < 8; i++) {
      for (const key of keys) {
        const id = `${key}-${i}`;
        (sent[key] ??= []).push(id);
        await publisher.publishEvent(s.topic, { id, key, data: { step: i } });
      }
    }
    await s.consume();
    await waitFor('32 records handled', async () => s.reports.length >= 32, 60_000, 100);

    for (const key of keys) {
      const started = s.reports.flatMap((r) => r.events.map((e) => e.id)).filter((id) => id.startsWith(`${key}-`));
      assert.deepEqual(started, sent[key], `order of ${key}'s events`);
    }
    // Temporal saw the starts in the same order.
    const runs = await runsOn(env.client, s.taskQueue, 32);
    for (const key of keys) {
      const ids = runs.map((r) => r.workflowId).filter((id) => id.startsWith(`${s.name}/${key}-`));
      assert.deepEqual(
        ids,
        sent[key].map((id) => workflowIdFor(s.name, id)),
      );
    }
  });

  it('loses nothing when a consumer joins and another leaves the group mid-stream', async () => {
    const s = await scenario(4);
    const total = 60;
    let published = 0;
    const publishing = (async () => {
      for (; published < total; published++) {
        await publisher.publishEvent(s.topic, { id: `e-${published}`, key: `user-${published % 7}`, data: {} });
        await sleep(40);
      }
    })();
    const first = await s.consume();
    await waitFor('a third of the events published', async () => published >= total / 3, 30_000, 50);
    await s.consume(); // joins: the group rebalances the 4 partitions over two members
    await waitFor('two thirds of the events published', async () => published >= (2 * total) / 3, 30_000, 50);
    await first.stop(); // leaves: its partitions move to the remaining member
    await publishing;

    const expected = Array.from({ length: total }, (_, i) => workflowIdFor(s.name, `e-${i}`)).sort();
    await waitFor(
      'a workflow for every event',
      async () => new Set((await runsOn(env.client, s.taskQueue)).map((r) => r.workflowId)).size >= total,
      60_000,
      250,
    );
    const runs = await runsOn(env.client, s.taskQueue, total);
    // Exactly one run per event: redeliveries around the rebalance were deduplicated by workflow ID.
    assert.deepEqual(runs.map((r) => r.workflowId).sort(), expected);
  });

  it('pauses while Temporal is unreachable (no commit, no dead letter) and resumes when it is back', async () => {
    const s = await scenario();
    const gate = await new TcpProxy(env.address).start();
    // Two gRPC attempts instead of the client's ten: the consumer's own backoff does the retrying.
    const connection = await Connection.connect({
      address: gate.address,
      interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 2 }))],
    });
    try {
      const client = new Client({ connection });
      const consumer = await s.consume(client, { maxRetryDelayMs: 500 });
      await publisher.publishEvent(s.topic, { id: 'before-outage', key: 'k', data: {} });
      await waitFor('the first record handled', async () => s.reports.length >= 1, 30_000, 100);

      gate.cut(); // Temporal is now unreachable for this consumer
      await publisher.publishEvent(s.topic, { id: 'during-outage', key: 'k', data: {} });
      await waitFor('the consumer to pause', async () => consumer.paused, 30_000, 100);
      await sleep(1500);
      assert.equal(s.reports.length, 1, 'nothing committed while paused');

      gate.restore();
      await waitFor('the paused record handled', async () => s.reports.length >= 2, 60_000, 100);
      assert.equal(consumer.paused, false);
      assert.deepEqual(s.reports[1].events, [{ id: 'during-outage', outcome: 'started' }]);
      assert.deepEqual(await readTopic([broker.bootstrap], s.deadLetterTopic, 1, 3000), [], 'no dead letter');
      assert.deepEqual(
        (await runsOn(env.client, s.taskQueue, 2)).map((r) => r.workflowId),
        [workflowIdFor(s.name, 'before-outage'), workflowIdFor(s.name, 'during-outage')],
      );
    } finally {
      await consumers.pop()?.stop();
      await connection.close();
      await gate.close();
    }
  });

  async function publishRaw(topic: string, key: string, value: string): Promise<void> {
    const { Producer } = await import('@platformatic/kafka');
    const producer = new Producer({ clientId: 'raw', bootstrapBrokers: [broker.bootstrap] });
    try {
      await producer.send({ messages: [{ topic, key: Buffer.from(key), value: Buffer.from(value) }] });
    } finally {
      await producer.close();
    }
  }
});
