/**
 * The consumer crash between start and commit: a consumer process is SIGKILLed right after the
 * workflow start of an event was accepted and before its offset was committed. The record is
 * delivered again to the next consumer of the group, whose start of the same workflow ID is
 * refused by the server: exactly one workflow per event, and every event started.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { KafkaBroker } from '../src/devstack/kafka-broker';
import { repoRoot } from '../src/infra/paths';
import { startTsProcess } from '../src/infra/processes';
import { waitFor } from '../src/infra/wait';
import type { RecordReport } from '../src/topics/kafka-consumer';
import { createEventPublisher, ensureTopics } from '../src/topics/kafka-publisher';
import { runsOn, sharedKafkaBroker, terminateRunsOn, workflowIdFor } from './support/kafka';
import { sharedDevServer } from './support/servers';

describe('Kafka consumer SIGKILLed after a start, before its commit', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let broker: KafkaBroker;
  const name = `crash${process.pid}`;
  const taskQueue = `kafka-${name}`;

  before(async () => {
    [env, broker] = await Promise.all([sharedDevServer(), sharedKafkaBroker()]);
  });
  after(async () => {
    if (env) await terminateRunsOn(env.client, taskQueue);
  });

  it('starts exactly one workflow per event, and every event, after a restart', async () => {
    const topic = `events.${name}`;
    const deadLetterTopic = `dead.${name}`;
    await ensureTopics([broker.bootstrap], [{ name: topic }, { name: deadLetterTopic }]);
    const publisher = createEventPublisher({ brokers: [broker.bootstrap] });
    const ids = ['e-1', 'e-2', 'e-3', 'e-4', 'e-5'];
    try {
      for (const id of ids) await publisher.publishEvent(topic, { id, key: 'user-1', data: {} });
    } finally {
      await publisher.close();
    }
    const logDir = path.join(repoRoot, 'test-output', 'kafka-crash');
    fs.mkdirSync(logDir, { recursive: true });
    const consumer = (label: string, extra: NodeJS.ProcessEnv) => {
      const logFile = path.join(logDir, `consumer-${label}-${process.pid}.log`);
      fs.rmSync(logFile, { force: true });
      const child = startTsProcess(`kafka consumer ${label}`, 'test/support/kafka-consumer-process.ts', [], {
        output: logFile,
        exitWithParent: true,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: env.address,
          KAFKA_BROKERS: broker.bootstrap,
          KAFKA_GROUP: `group-${name}`,
          KAFKA_TOPIC: topic,
          KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
          TASK_QUEUE: taskQueue,
          WORKFLOW_PREFIX: name,
          ...extra,
        },
      });
      const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
      const reports = () =>
        log()
          .split('\n')
          .filter((line) => line.startsWith('record '))
          .map((line) => JSON.parse(line.slice('record '.length)) as RecordReport);
      return { child, log, reports };
    };

    // A holds right after the first event's start was accepted, before committing its offset.
    const a = consumer('A', { BATCH_FAULT_PAUSE: 'kafka-after-start' });
    await waitFor(
      'consumer A to hold after a start',
      async () => a.log().includes('fault point kafka-after-start reached'),
      60_000,
      100,
    );
    a.child.kill();
    await a.child.exited;
    assert.deepEqual(a.reports(), [], 'A committed nothing');
    assert.deepEqual(
      (await runsOn(env.client, taskQueue, 1)).map((r) => r.workflowId),
      [workflowIdFor(name, 'e-1')],
    );

    // B joins the same group once A's session expired, and is delivered e-1 again.
    const b = consumer('B', {});
    try {
      await waitFor('consumer B to handle all 5 records', async () => b.reports().length >= 5, 60_000, 200);
      assert.deepEqual(
        b.reports().map((r) => r.events),
        [[{ id: 'e-1', outcome: 'deduplicated' }], ...ids.slice(1).map((id) => [{ id, outcome: 'started' }])],
      );
    } finally {
      await b.child.stop();
    }
    const runs = await runsOn(env.client, taskQueue, ids.length);
    assert.deepEqual(
      runs.map((r) => r.workflowId),
      ids.map((id) => workflowIdFor(name, id)),
      'one run per event ID, in offset order',
    );
  });
});
