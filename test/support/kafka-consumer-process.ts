/**
 * A topic consumer as its own process, for the crash test: started with the settings in its
 * environment, it starts each event's workflow on Temporal (test/support/kafka.ts) and prints one
 * `record {...}` line per committed record. BATCH_FAULT_PAUSE=kafka-after-start holds it after a
 * start and before the commit, so the test can SIGKILL it there.
 */
import { Client, Connection } from '@temporalio/client';
import { runTopicConsumer } from '../../src/topics/kafka-consumer';
import { temporalStart } from './kafka';

async function main(): Promise<void> {
  const env = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const connection = await Connection.connect({ address: env('TEMPORAL_ADDRESS') });
  const client = new Client({ connection });
  const consumer = await runTopicConsumer({
    brokers: [env('KAFKA_BROKERS')],
    groupId: env('KAFKA_GROUP'),
    topics: [env('KAFKA_TOPIC')],
    deadLetterTopic: env('KAFKA_DEAD_LETTER_TOPIC'),
    start: temporalStart(client, env('TASK_QUEUE'), env('WORKFLOW_PREFIX')),
    sessionTimeoutMs: 3000,
    log: (line) => console.log(line),
    onRecord: (report) =>
      console.log(`record ${JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`),
  });
  console.log('consumer ready');
  const stop = () =>
    void consumer
      .stop()
      .then(() => connection.close())
      .then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await consumer.done;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
