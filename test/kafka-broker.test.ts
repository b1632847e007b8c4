/**
 * The broker the project starts: formatted once, then restarted on the same folder it still has
 * its topics, records and the group's committed offsets; while it is down a publish fails with
 * what to check, and a running consumer joins again once it is back.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newClusterId, startKafkaBroker } from '../src/devstack/kafka-broker';
import { freePort, waitFor } from '../src/infra/wait';
import { runTopicConsumer, type RecordReport, type TopicConsumer } from '../src/topics/kafka-consumer';
import { createEventPublisher, ensureTopics, KafkaUnavailableError } from '../src/topics/kafka-publisher';
import { readTopic, temporalStart, terminateRunsOn } from './support/kafka';
import { sharedDevServer } from './support/servers';

describe('Kafka broker started by the project', function () {
  this.timeout(120_000);

  it('keeps topics, records and committed offsets across a restart; publishers and consumers carry on', async () => {
    const env = await sharedDevServer();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-kafka-restart-'));
    const port = await freePort();
    const start = async () => startKafkaBroker({ dir, port, controllerPort: await freePort() });
    let broker = await start();
    const brokers = [broker.bootstrap];
    const taskQueue = `kafka-restart-${process.pid}`;
    const reports: RecordReport[] = [];
    let consumer: TopicConsumer | undefined;
    const publisher = createEventPublisher({ brokers, timeoutMs: 2000 });
    try {
      await ensureTopics(brokers, [{ name: 'signups', partitions: 2 }, { name: 'dead' }]);
      consumer = await runTopicConsumer({
        brokers,
        groupId: 'restart-group',
        topics: ['signups'],
        deadLetterTopic: 'dead',
        start: temporalStart(env.client, taskQueue, 'restart'),
        sessionTimeoutMs: 3000,
        maxRetryDelayMs: 1000,
        onRecord: (report) => reports.push(report),
      });
      await publisher.publishEvent('signups', { id: 'signup-1', key: 'user-1', data: { email: 'a@example.com' } });
      await waitFor('signup-1 handled', async () => reports.length >= 1, 30_000, 100);

      await broker.stop();
      await assert.rejects(
        publisher.publishEvent('signups', { id: 'while-down', key: 'user-1', data: {} }),
        (error: Error) =>
          error instanceof KafkaUnavailableError &&
          /did not take the event while-down.*BATCH_KAFKA_BROKERS/.test(error.message),
      );
      broker = await start(); // same folder and client port, another controller port
      assert.ok(fs.existsSync(path.join(dir, 'data', 'meta.properties')), 'storage formatted once, in the data folder');

      await publisher.publishEvent('signups', { id: 'signup-2', key: 'user-1', data: { email: 'b@example.com' } });
      await waitFor('signup-2 handled by the reconnected consumer', async () => reports.length >= 2, 60_000, 100);
      // signup-1's commit survived the restart: it was not delivered again.
      assert.deepEqual(
        reports.map((r) => r.events),
        [[{ id: 'signup-1', outcome: 'started' }], [{ id: 'signup-2', outcome: 'started' }]],
      );
      const ids = (await readTopic(brokers, 'signups', 2)).map((m) => JSON.parse(m.value.toString()).id);
      assert.deepEqual(ids, ['signup-1', 'signup-2']);
    } finally {
      await consumer?.stop();
      await publisher.close();
      await broker.stop();
      await terminateRunsOn(env.client, taskQueue);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('draws cluster IDs the storage tool takes: 22 URL-safe characters, never a leading "-"', () => {
    // One draw in 64 started with "-" before, and `kafka-storage format --cluster-id -…` then failed
    // ("expected one argument"): 5,000 draws would hit it about 78 times.
    for (let i = 0; i < 5000; i++) {
      const id = newClusterId();
      assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });

  it('says which setting to change when its port is taken', async () => {
    const port = await freePort();
    const net = await import('node:net');
    const server = net.createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const dir = path.join(os.tmpdir(), `batch-kafka-busy-${process.pid}`);
    try {
      await assert.rejects(
        startKafkaBroker({
          dir,
          port,
          controllerPort: await freePort(),
        }),
        /Port \d+ is already in use.*BATCH_KAFKA_PORT.*BATCH_KAFKA_BROKERS/,
      );
      assert.equal(fs.existsSync(dir), false, 'nothing written before the ports are checked');
    } finally {
      server.close();
    }
  });
});
