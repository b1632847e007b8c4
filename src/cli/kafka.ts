/** `npm run cli -- kafka broker|rescan`: the project's Kafka broker on its own, and the uploads bucket's catch-up. */
import { CliCommand } from './command';
import { rescanBucket } from './bucket-rescan';
import { runKafkaBroker } from './kafka-broker';

export function kafkaCommand(): CliCommand {
  const kafka = new CliCommand('kafka').description(
    'the Kafka broker on its own, and the uploads bucket rescan (docs/kafka.md)',
  );
  kafka
    .command('broker')
    .description(
      'run the Kafka broker (KRaft) on 127.0.0.1:BATCH_KAFKA_PORT (9092; controller BATCH_KAFKA_CONTROLLER_PORT 9093), ' +
        'data in BATCH_DATA_DIR/kafka (kept across restarts), until Ctrl-C',
    )
    .action(runKafkaBroker);
  kafka
    .command('rescan')
    .description(
      'publish an event per video in the uploads bucket (BATCH_UPLOADS_BUCKET) to topic bucket-events: catch-up after ' +
        'lost notifications (docs/flows/cattube.md). S3: BATCH_STORAGE=s3 + BATCH_S3_*, else the gateway of .data/s3; ' +
        'Kafka: BATCH_KAFKA_BROKERS, else 127.0.0.1:BATCH_KAFKA_PORT',
    )
    .action(rescanBucket);
  return kafka;
}
