/**
 * The broker the project starts: formatted once, then restarted on the same folder (on other
 * ports) it still has its topics, records and the group's committed offsets.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Consumer } from '@platformatic/kafka';
import { startKafkaBroker } from '../src/runtime/kafka-broker';
import { freePort } from '../src/runtime/wait';
import { createEventPublisher, ensureTopics } from '../src/topics/kafka-publisher';
import { readTopic } from './support/kafka';

describe('Kafka broker started by the project', function () {
  this.timeout(120_000);

  it('keeps topics, records and committed offsets across a restart on the same folder', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-kafka-restart-'));
    const start = async () => startKafkaBroker({ dir, port: await freePort(), controllerPort: await freePort() });
    let broker = await start();
    try {
      await ensureTopics([broker.bootstrap], [{ name: 'signups', partitions: 2 }]);
      const publisher = createEventPublisher({ brokers: [broker.bootstrap] });
      await publisher.publishEvent('signups', { id: 'signup-1', key: 'user-1', data: { email: 'a@example.com' } });
      await publisher.publishEvent('signups', { id: 'signup-2', key: 'user-1', data: { email: 'b@example.com' } });
      await publisher.close();
      // A group reads the first record and commits it.
      const consumer = new Consumer({
        groupId: 'restart-group',
        clientId: 'c',
        bootstrapBrokers: [broker.bootstrap],
        autocommit: false,
      });
      const stream = await consumer.consume({ topics: ['signups'], mode: 'committed', fallbackMode: 'earliest' });
      for await (const message of stream) {
        await message.commit();
        break;
      }
      await stream.close();
      await (consumer.close() as Promise<void>);

      await broker.stop();
      broker = await start();
      assert.ok(fs.existsSync(path.join(dir, 'data', 'meta.properties')), 'storage formatted once, in the data folder');

      const values = (await readTopic([broker.bootstrap], 'signups', 2)).map((m) => JSON.parse(m.value.toString()).id);
      assert.deepEqual(values, ['signup-1', 'signup-2']);
      const again = new Consumer({
        groupId: 'restart-group',
        clientId: 'c',
        bootstrapBrokers: [broker.bootstrap],
        autocommit: false,
      });
      try {
        const committed = await again.listCommittedOffsets({ topics: [{ topic: 'signups', partitions: [0, 1] }] });
        assert.equal(committed.get('signups')!.filter((offset) => offset === 1n).length, 1, 'the commit survived');
      } finally {
        await (again.close() as Promise<void>);
      }
    } finally {
      await broker.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which setting to change when its port is taken', async () => {
    const port = await freePort();
    const net = await import('node:net');
    const server = net.createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      await assert.rejects(
        startKafkaBroker({
          dir: fs.mkdtempSync(path.join(os.tmpdir(), 'batch-kafka-busy-')),
          port,
          controllerPort: await freePort(),
        }),
        /Port \d+ is already in use.*BATCH_KAFKA_PORT.*BATCH_KAFKA_BROKERS/,
      );
    } finally {
      server.close();
    }
  });
});
