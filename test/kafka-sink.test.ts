/**
 * A pipeline's sink: a `publish-to-topic` stage publishes each item to a Kafka topic, and the
 * event router's consumer starts the pipeline subscribed to that topic once per item. Checked on
 * a real broker and the dev server with a real worker process killed after its publish and before
 * its activity completed: the retried publish is deduplicated downstream by workflow ID. Also the
 * spec checks of `sink`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { stageActivities } from '../src/activities/pipeline';
import { closeTopicSinks } from '../src/activities/pipeline/topic-sink';
import { EventRouter } from '../src/client/event-router';
import { pipelineWorkflowId, startPipelineRun } from '../src/client/pipeline-run';
import type { CatalogEntry } from '../src/pipelines/catalog';
import type { PipelineSpec } from '../src/pipelines/spec';
import { pipelineSpecProblems } from '../src/pipelines/validate';
import { repoRoot } from '../src/infra/paths';
import { waitFor } from '../src/infra/wait';
import { startWorkerProcess } from '../src/infra/worker-process';
import { runTopicConsumer, type RecordReport, type TopicConsumer } from '../src/topics/kafka-consumer';
import { createEventPublisher, ensureTopics } from '../src/topics/kafka-publisher';
import { routerStart } from '../src/client/router-start';
import { sinkEventId } from '../src/topics/sink-event-id';
import { autoHeartbeat } from '../src/workers/auto-heartbeat';
import { isolatedConfig } from './support/config';
import { readTopic, sharedKafkaBroker } from './support/kafka';
import { sharedDevServer, sharedWorkflowBundle } from './support/servers';

const sinkStage = (sink: unknown, extra: Record<string, unknown> = {}) =>
  ({
    name: 'chain',
    start: 'out',
    stages: { out: { kind: 'activity', activity: 'publish-to-topic', sink, ...extra } },
  }) as unknown as PipelineSpec;
const messages = (spec: PipelineSpec) => pipelineSpecProblems(spec).map((p) => `${p.path}: ${p.message}`);

describe('pipeline sink: spec checks', () => {
  it('takes a topic a subscription can name, and says what is wrong otherwise', () => {
    assert.deepEqual(messages(sinkStage({ topic: 'tagged-images' })), []);
    assert.deepEqual(messages(sinkStage({ topic: 'tagged-images' }, { retry: { maximumInterval: '30 seconds' } })), []);
    const [missing] = messages(sinkStage(undefined));
    assert.match(missing, /stages\.out\.sink: missing sink; a "publish-to-topic" stage names the Kafka topic/);
    assert.match(
      messages(sinkStage('t'))[0],
      /stages\.out\.sink: must be an object like \{ "topic": "tagged-images" \}/,
    );
    assert.match(
      messages(sinkStage({ topic: 'my topic!' }))[0],
      /stages\.out\.sink\.topic: "my topic!" is not a topic name a subscription can take: .* e\.g\. "my-topic"/,
    );
    assert.match(messages(sinkStage({ topic: '_private' }))[0], /starting with a letter or digit; e\.g\. "private"/);
    assert.match(messages(sinkStage({ topic: 'x'.repeat(65) }))[0], /use 1–64 letters/);
    assert.match(
      messages(sinkStage({ topics: 't' }))[0],
      /sink\.topics: unknown property "topics" of a sink; did you mean "topic"\?/,
    );
    assert.match(
      messages(sinkStage({ topic: 't' }, { retry: { maximumAttempts: 3 } }))[0],
      /stages\.out\.retry\.maximumAttempts: a sink waits out broker outages .* remove maximumAttempts/,
    );
    const misspelt = {
      name: 'p',
      start: 'a',
      stages: { a: { kind: 'activity', activity: 'noop', sinc: { topic: 't' } } },
    };
    assert.match(
      messages(misspelt as unknown as PipelineSpec)[0],
      /stages\.a\.sinc: unknown property "sinc" .* did you mean "sink"\?/,
    );
    const elsewhere = {
      name: 'p',
      start: 'a',
      stages: { a: { kind: 'activity', activity: 'noop', sink: { topic: 't' } } },
    };
    assert.match(
      messages(elsewhere as PipelineSpec)[0],
      /stages\.a\.sink: only a "publish-to-topic" stage publishes to a topic; set "activity": "publish-to-topic"/,
    );
    assert.match(
      messages({ ...elsewhere, stages: { a: { kind: 'activity', activity: 'publish-to-topc' } } } as PipelineSpec)[0],
      /unknown activity "publish-to-topc"; did you mean "publish-to-topic"\?/,
    );
  });

  it('derives event IDs from pipeline, run and item, usable in workflow IDs', () => {
    assert.equal(sinkEventId('tagging', 'r1', 'img-1'), 'tagging.r1.img-1');
    const long = sinkEventId('p', 'run/with spaces', 'x'.repeat(120));
    assert.match(long, /^p\.run_with_spaces\.x+-[0-9a-f]{24}$/);
    assert.ok(long.length <= 100);
    assert.notEqual(long, sinkEventId('p', 'run/with spaces', `${'x'.repeat(120)}y`));
    assert.equal(sinkEventId('p', 'r', 'i'), sinkEventId('p', 'r', 'i'), 'the same item, the same ID');
  });
});

describe('pipeline sink: two pipelines chained through a Kafka topic', function () {
  this.timeout(150_000);
  let env: TestWorkflowEnvironment;
  let consumer: TopicConsumer | undefined;
  const savedBrokers = process.env.BATCH_KAFKA_BROKERS;

  before(async () => {
    env = await sharedDevServer();
  });
  after(async () => {
    await consumer?.stop();
    await closeTopicSinks();
    if (savedBrokers === undefined) delete process.env.BATCH_KAFKA_BROKERS;
    else process.env.BATCH_KAFKA_BROKERS = savedBrokers;
  });

  it('publishes concurrent events from one publisher without losing any (the idempotent producer)', async () => {
    const broker = await sharedKafkaBroker();
    const topic = `concurrent-${process.pid}`;
    await ensureTopics([broker.bootstrap], [{ name: topic, partitions: 3 }]);
    const publisher = createEventPublisher({ brokers: [broker.bootstrap] });
    try {
      const ids = Array.from({ length: 6 }, (_, i) => `concurrent-${i}`);
      const written = await Promise.all(ids.map((id) => publisher.publishEvent(topic, { id, data: {} })));
      const places = new Set(written.map((w) => `${w.partition}/${w.offset}`));
      assert.equal(places.size, ids.length, `each event its own offset: ${[...places].join(' ')}`);
      const read = await readTopic([broker.bootstrap], topic, ids.length, 20_000);
      assert.deepEqual(read.map((m) => (JSON.parse(m.value.toString()) as { id: string }).id).sort(), ids.sort());
    } finally {
      await publisher.close();
    }
  });

  it("every item of pipeline A starts pipeline B exactly once, also when A's publish is retried after a worker died", async () => {
    const broker = await sharedKafkaBroker();
    const brokers = [broker.bootstrap];
    process.env.BATCH_KAFKA_BROKERS = broker.bootstrap; // the in-process worker's sink
    const config = isolatedConfig(env.address);
    const topic = `chain-${process.pid}`;
    const queueB = `${config.queues.stages}-b`;
    const specA: PipelineSpec = {
      name: `sink-a-${process.pid}`,
      start: 'tag',
      stages: {
        tag: { kind: 'activity', activity: 'annotate', next: 'publish' },
        publish: {
          kind: 'activity',
          activity: 'publish-to-topic',
          sink: { topic },
          retry: { maximumInterval: '1 second' },
        },
      },
    };
    const specB: PipelineSpec = {
      name: `sink-b-${process.pid}`,
      start: 'receive',
      activityQueue: queueB,
      stages: { receive: { kind: 'activity', activity: 'annotate' } },
    };
    const catalog = new Map<string, CatalogEntry>([
      [specB.name, { name: specB.name, description: '', file: 'test', spec: specB }],
    ]);
    const subscriptions = {
      topics: { [topic]: { description: 'A sink', pipelines: [specB.name], flows: [] } },
      inboxes: [],
    };
    const router = new EventRouter(env.client, config, catalog, subscriptions, {});
    const reports: RecordReport[] = [];
    const seen: { id: string; key?: string; data: Record<string, unknown> }[] = [];
    const startB = routerStart(router, [], repoRoot);
    // The broker creates no topic on first use: the consumer subscribes before A's first publish.
    await ensureTopics(brokers, [{ name: topic, partitions: 3 }]);
    consumer = await runTopicConsumer({
      brokers,
      groupId: `sink-chain-${process.pid}`,
      topics: [topic],
      start: async (event) => {
        seen.push({ id: event.id, key: event.key, data: event.data });
        return startB(event);
      },
      deadLetterTopic: `dead.sink${process.pid}`,
      sessionTimeoutMs: 3000,
      onRecord: (report) => reports.push(report),
    });

    const base = { connection: env.nativeConnection, namespace: config.namespace };
    const workflowWorker = await Worker.create({
      ...base,
      taskQueue: config.queues.workflow,
      workflowBundle: await sharedWorkflowBundle(),
    });
    const stageWorker = (taskQueue: string) =>
      Worker.create({ ...base, taskQueue, activities: stageActivities, interceptors: { activity: [autoHeartbeat] } });
    const workerB = await stageWorker(queueB);
    const running = [workflowWorker.run(), workerB.run()];
    let stagesWorker: Worker | undefined;
    try {
      // Worker process 1 runs A's stages and holds every publish after the broker took it.
      const logFile = path.join(repoRoot, 'test-output', 'kafka-sink', `worker-${process.pid}.log`);
      fs.mkdirSync(path.dirname(logFile), { recursive: true });
      fs.rmSync(logFile, { force: true });
      const holding = await startWorkerProcess({
        name: 'sink worker (held)',
        config,
        logFile,
        roles: 'stages',
        env: { BATCH_FAULT_PAUSE: 'sink-after-publish', BATCH_KAFKA_BROKERS: broker.bootstrap },
      });
      const items = Array.from({ length: 5 }, (_, i) => ({ id: `item-${i}`, data: { n: i } }));
      const run = await startPipelineRun(env.client, config, specA, { items }, { runName: 'chain' });
      const held = () =>
        (fs.readFileSync(logFile, 'utf8').match(/fault point sink-after-publish reached/g) ?? []).length;
      await waitFor('every publish held after the broker took it', async () => held() >= items.length, 60_000, 100);
      await waitFor(
        'the consumer to start B on each published item',
        async () => reports.length >= items.length,
        30_000,
        100,
      );
      holding.kill();
      await holding.exited;

      // A new worker: each held activity is retried (heartbeat timeout) and publishes again.
      stagesWorker = await stageWorker(config.queues.stages);
      running.push(stagesWorker.run());
      const result = await run.result();
      assert.deepEqual([result.completed, result.deadLettered], [items.length, 0], JSON.stringify(result));

      await waitFor(
        'the consumer to read each item twice',
        async () => reports.length >= items.length * 2,
        60_000,
        100,
      );
      assert.equal(reports.length, items.length * 2, 'every item published twice: before the kill and on the retry');
      for (const item of items) {
        const id = sinkEventId(specA.name, 'chain', item.id);
        const copies = seen.filter((e) => e.id === id);
        assert.equal(copies.length, 2, `${item.id}: both copies carry event ID ${id}`);
        for (const copy of copies) {
          assert.equal(copy.key, item.id, `${item.id}: keyed by item ID`);
          assert.deepEqual(copy.data, { n: item.data.n, trail: ['tag'] }, `${item.id}: A's output is the event's data`);
        }
      }
      const outcomes = reports.flatMap((r) => r.events.map((e) => e.outcome));
      assert.deepEqual(
        [outcomes.filter((o) => o === 'started').length, outcomes.filter((o) => o === 'deduplicated').length],
        [items.length, items.length],
        JSON.stringify(reports, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
      );
      for (const item of items) {
        const id = sinkEventId(specA.name, 'chain', item.id);
        const runB = env.client.workflow.getHandle(pipelineWorkflowId(specB.name, `event-${id}`));
        const outcomeB = (await runB.result()) as { completed: number };
        assert.equal(outcomeB.completed, 1, `pipeline B ran ${item.id}`);
      }
    } finally {
      workflowWorker.shutdown();
      workerB.shutdown();
      stagesWorker?.shutdown();
      await Promise.allSettled(running);
    }
  });
});
