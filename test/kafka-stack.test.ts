/**
 * The event tier on Kafka as `npm start -- --kafka` runs it (startApiServices with its Kafka
 * options, on a broker of this test's own): POST /topics/<t>/events is checked as without Kafka,
 * written to the topic keyed by entity and answered 202 "queued"; the consumer group in the API
 * process starts the run once, also when the same event is posted again. With the broker down the
 * API answers 503 naming BATCH_KAFKA_BROKERS and the inbox keeps its file; once the broker is back
 * on the same folder, the file's event is delivered.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { inboxLedgerFile, startApiServices } from '../src/api/services';
import { type KafkaBroker, startKafkaBroker } from '../src/devstack/kafka-broker';
import { freePort, waitFor } from '../src/infra/wait';
import { readLedgerEntries } from '../src/sources/inbox-ledger';
import { PublishFailures } from '../src/sources/inbox-failures';
import type { RecordReport } from '../src/topics/kafka-consumer';
import { KafkaUnavailableError } from '../src/topics/kafka-publisher';
import { TestApi } from './support/api';
import { readTopic } from './support/kafka';
import { sharedDevServer } from './support/servers';

describe('the API and the inboxes on Kafka (npm start -- --kafka)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let api: TestApi;
  let broker: KafkaBroker;
  let plan: { dir: string; port: number; controllerPort: number };
  const records: RecordReport[] = [];
  const logs: string[] = [];

  before(async () => {
    env = await sharedDevServer();
    plan = {
      dir: fs.mkdtempSync(path.join(os.tmpdir(), 'batch-kafka-stack-')),
      port: await freePort(),
      controllerPort: await freePort(),
    };
    broker = await startKafkaBroker(plan);
    api = new TestApi(env, `kstack${process.pid}`, { inboxSettleMs: 200 });
    api.services = await startApiServices({
      client: env.client,
      config: api.config,
      dataDir: api.dataDir,
      log: (line) => logs.push(line),
      pipelinesDir: api.pipelinesDir,
      subscriptions: api.subscriptionsFile,
      inboxSettleMs: 200,
      kafka: {
        brokers: [broker.bootstrap],
        groupId: `kstack-${process.pid}`,
        deadLetterTopic: 'kstack.dead-letters',
        onRecord: (report) => records.push(report),
      },
    });
  });

  after(async () => {
    await api?.stop();
    // The runs were only started (no worker polls the test's queues): end them on the shared server.
    for await (const run of env.client.workflow.list({
      query: `WorkflowId STARTS_WITH '${api.pipelines.greet}/' AND ExecutionStatus = 'Running'`,
    })) {
      await env.client.workflow
        .getHandle(run.workflowId)
        .terminate('test done')
        .catch(() => undefined);
    }
    await broker?.stop();
    api?.cleanUp();
    if (plan) fs.rmSync(plan.dir, { recursive: true, force: true });
  });

  /** The runs with this workflow ID (visibility lags the start by a moment). */
  async function runsOf(workflowId: string, atLeast: number): Promise<number> {
    let count = 0;
    await waitFor(
      `${atLeast} run(s) of ${workflowId} to be listed`,
      async () => {
        count = 0;
        for await (const _ of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) count++;
        return count >= atLeast;
      },
      30_000,
      200,
    );
    return count;
  }

  it('queues a posted event on the topic keyed by entity and starts its run once, also when posted again', async () => {
    const event = { id: 'kafka-ev-1', data: { userId: 'u-ada', note: 'hello' } };
    const first = await api.call('POST', '/topics/uploads/events', { body: event });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.deepEqual(first.body.runs, [], 'the consumer group starts the runs, not the request');
    assert.equal(first.body.queued.topic, 'uploads');
    assert.match(first.body.queued.offset, /^\d+$/);

    // The record is in Kafka, as any consumer reads it: keyed by the user, the event as its value.
    const [record] = await readTopic([broker.bootstrap], 'uploads', 1);
    assert.equal(record.key.toString(), 'u-ada');
    assert.deepEqual(JSON.parse(record.value.toString()), event);
    assert.equal(record.partition, first.body.queued.partition);

    const workflowId = `${api.pipelines.greet}/event-${event.id}`;
    assert.equal(await runsOf(workflowId, 1), 1);

    const again = await api.call('POST', '/topics/uploads/events', { body: event });
    assert.equal(again.status, 202);
    assert.equal(BigInt(again.body.queued.offset), BigInt(first.body.queued.offset) + 1n, 'written again');
    await waitFor(
      'the consumer to handle the repeat',
      async () => records.filter((r) => r.events.some((e) => e.id === event.id)).length >= 2,
      30_000,
      100,
    );
    const outcomes = records.flatMap((r) => r.events.filter((e) => e.id === event.id).map((e) => e.outcome));
    assert.deepEqual(outcomes, ['started', 'deduplicated']);
    assert.equal(await runsOf(workflowId, 1), 1, 'one run for the event posted twice');
  });

  it('refuses what it refused without Kafka, before anything is written to the topic', async () => {
    const outside = path.join(api.outside, 'secret.txt');
    fs.writeFileSync(outside, 'not for the API\n');
    const bad = await api.call('POST', '/topics/uploads/events', {
      body: { id: 'kafka-ev-out', data: { path: outside } },
    });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    // The sign-up flow cannot take an event without a userId: 400 BadEvent, as from the router.
    const unusable = await api.call('POST', '/topics/new-users/events', { body: { id: 'kafka-ev-nouser', data: {} } });
    assert.equal(unusable.status, 400, JSON.stringify(unusable.body));
    assert.equal(unusable.body.error, 'BadEvent');
    const unknown = await api.call('POST', '/topics/no-such/events', { body: { id: 'kafka-ev-x', data: {} } });
    assert.equal(unknown.status, 404);
    assert.deepEqual(await readTopic([broker.bootstrap], 'new-users', 1, 3000), [], 'nothing queued');
  });

  it('answers 503 naming BATCH_KAFKA_BROKERS and keeps the inbox file while the broker is down, then delivers it', async () => {
    await broker.stop();
    const down = await api.call('POST', '/topics/uploads/events', { body: { id: 'kafka-ev-down', data: {} } });
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.equal(down.body.error, 'KafkaUnavailable');
    assert.match(down.body.message, /BATCH_KAFKA_BROKERS/);
    assert.ok(down.body.message.includes(broker.bootstrap), down.body.message);

    const file = path.join(api.inbox, 'while-down.txt');
    fs.writeFileSync(file, 'uploaded while Kafka was down\n');
    const ledger = inboxLedgerFile(api.dataDir, api.inbox);
    await waitFor(
      'a failed publish of the file',
      async () => logs.some((line) => /while-down\.txt: publishing failed .*BATCH_KAFKA_BROKERS/.test(line)),
      60_000,
      100,
    );
    assert.ok(fs.existsSync(file), 'the file stays in the inbox');
    assert.deepEqual(await readLedgerEntries(ledger), []);

    broker = await startKafkaBroker(plan); // the same folder and ports: topics and offsets kept
    await waitFor('the file to be published', async () => (await readLedgerEntries(ledger)).length === 1, 90_000, 200);
    const [entry] = await readLedgerEntries(ledger);
    assert.match(entry.queued ?? '', /^uploads\/\d+@\d+$/);
    assert.ok(fs.existsSync(file), 'an inbox file stays where it is once published');
    assert.equal(await runsOf(`${api.pipelines.greet}/event-${entry.eventId}`, 1), 1);
  });

  it('never sends a file to the poison list for a broker outage', () => {
    const failures = new PublishFailures({ maxFailures: 2, initialDelayMs: 10, maxDelayMs: 100 });
    const outage = new KafkaUnavailableError('Kafka did not take the event');
    for (let i = 0; i < 10; i++) assert.equal(failures.failed('ev', outage, Date.now()).kind, 'retry');
    assert.equal(failures.failed('ev', new Error('bad file'), Date.now()).kind, 'retry');
    assert.equal(failures.failed('ev', new Error('bad file'), Date.now()).kind, 'poison');
  });
});
