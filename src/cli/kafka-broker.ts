/**
 * `npx tsx src/cli/kafka-broker.ts`: the project's Kafka broker on its own, for the
 * hands-on steps of docs/kafka.md (until `npm start -- --kafka` starts it with the stack). Data in
 * .data/kafka (kept across restarts); ports BATCH_KAFKA_PORT / BATCH_KAFKA_CONTROLLER_PORT
 * (9092 / 9093); Ctrl-C stops it.
 */
import path from 'node:path';
import { startKafkaBroker } from '../devstack/kafka-broker';
import { displayPath } from '../infra/paths';
import { kafkaBinDir } from '../devstack/tools/kafka';
import { defaultDeadLetterTopic, kafkaSettingsFromEnv } from '../topics/kafka-config';
import { ensureTopics } from '../topics/kafka-publisher';

async function main(): Promise<void> {
  const settings = kafkaSettingsFromEnv();
  const broker = await startKafkaBroker({
    dir: settings.dir,
    port: settings.port,
    controllerPort: settings.controllerPort,
    log: (line) => console.log(`[kafka] ${line}`),
  });
  await ensureTopics([broker.bootstrap], [{ name: settings.deadLetterTopic || defaultDeadLetterTopic }]);
  const bin = displayPath(kafkaBinDir);
  console.log(
    [
      `Kafka broker: ${broker.bootstrap} (log: ${displayPath(broker.logFile)}); Ctrl-C stops it.`,
      `  ${path.join(bin, 'kafka-topics')} --bootstrap-server ${broker.bootstrap} --list`,
      `  ${path.join(bin, 'kafka-console-consumer')} --bootstrap-server ${broker.bootstrap} --topic <topic> --from-beginning`,
    ].join('\n'),
  );
  let stopping = false;
  const stop = () => {
    stopping = true;
    void broker.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await broker.process.exited;
  if (stopping) return;
  console.error(`[kafka] the broker exited (${broker.process.exitDescription}); see ${displayPath(broker.logFile)}`);
  process.exit(1);
}

main().catch((error: Error) => {
  console.error(`[kafka] ${error.message}`);
  process.exit(1);
});
