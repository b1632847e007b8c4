/**
 * `npm run cli -- kafka broker`: the project's Kafka broker on its own, for the
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

/** Runs the broker until Ctrl-C (exit 0) or until it exits by itself (exit 1, its log named). */
export async function runKafkaBroker(): Promise<void> {
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
  let stopped: Promise<void> | undefined;
  const stop = () => void (stopped ??= broker.stop());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await broker.process.exited;
  if (stopped) return stopped;
  throw new Error(`the broker exited (${broker.process.exitDescription}); see ${displayPath(broker.logFile)}`);
}
