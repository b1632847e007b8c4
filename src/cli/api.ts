/**
 * `npm run api [-- --kafka]`: the HTTP API and the inbox watchers alone, against TEMPORAL_ADDRESS
 * or the embedded stack `npm start` keeps up (which already runs them, on BATCH_API_PORT). Workers
 * must be polling elsewhere (npm start, or `npm run worker`). With `--kafka` the topics are on the
 * Kafka at BATCH_KAFKA_BROKERS (default the project's broker, 127.0.0.1:BATCH_KAFKA_PORT) and this
 * process is one more member of the consumer group. Stays up until Ctrl-C.
 */
import { Client } from '@temporalio/client';
import { startApiServices } from '../api/services';
import { connectToTemporal } from '../client/connect';
import { loadConfig } from '../infra/config';
import { dataDir } from '../infra/paths';
import { apiTelemetry } from '../infra/telemetry/api';
import { kafkaSettingsFromEnv } from '../topics/kafka-config';
import { CliCommand, runProgram } from './command';

const log = (line: string) => console.log(line);

/** `npm run api` as a commander program: its options, generated --help, and the action. */
export function apiProgram(): CliCommand {
  return new CliCommand('npm run api --')
    .description(
      'Serves the HTTP API (docs/api.md) and the inbox watchers of pipelines/subscriptions.yaml until Ctrl-C.',
    )
    .option(
      '--kafka',
      'topics on Kafka: POST /topics/<t>/events and the inboxes publish to the Kafka at BATCH_KAFKA_BROKERS (default ' +
        '127.0.0.1:BATCH_KAFKA_PORT, the broker of npm start -- --kafka), and this process joins the consumer group ' +
        'BATCH_KAFKA_GROUP (batch-router) that starts the runs (docs/kafka.md)',
    )
    .addHelpText(
      'after',
      '\nEnvironment: BATCH_API_PORT (8088), BATCH_API_METRICS_PORT (9463; 0: off), BATCH_API_HOST (127.0.0.1), ' +
        'BATCH_API_TOKEN (shown only on a terminal), BATCH_API_MAX_CONNECTIONS (256), BATCH_API_REQUEST_TIMEOUT_MS ' +
        '(30000), BATCH_INPUT_ROOTS, TEMPORAL_ADDRESS, BATCH_DATA_DIR, BATCH_KAFKA_BROKERS, BATCH_KAFKA_PORT (9092), ' +
        'BATCH_KAFKA_GROUP, BATCH_KAFKA_DEAD_LETTER_TOPIC (batch.dead-letters).',
    )
    .action((opts: { kafka?: boolean }) => main(opts.kafka === true));
}

async function main(withKafka: boolean): Promise<void> {
  const kafkaSettings = withKafka ? kafkaSettingsFromEnv() : undefined;
  const telemetry = apiTelemetry();
  const config = loadConfig();
  const connection = await connectToTemporal(config);
  const client = new Client({ connection, namespace: config.namespace });
  const kafka = kafkaSettings && {
    brokers: kafkaSettings.brokers.length ? kafkaSettings.brokers : [`127.0.0.1:${kafkaSettings.port}`],
    groupId: kafkaSettings.groupId,
    deadLetterTopic: kafkaSettings.deadLetterTopic,
  };
  const services = await startApiServices({ client, config, dataDir, log, meter: telemetry.meter, kafka });
  for (const line of services.usage) log(line);
  if (telemetry.metricsUrl) log(`API metrics: ${telemetry.metricsUrl} (docs/observability.md)`);
  log('Press Ctrl-C to stop.');
  const stop = async () => {
    await services.stop();
    await connection.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (require.main === module) runProgram(apiProgram(), { prefix: '[api] ', exitWhenDone: false });
