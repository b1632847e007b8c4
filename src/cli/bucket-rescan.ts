/**
 * `npm run cli -- kafka rescan`: publishes an event per video in the uploads bucket
 * (src/client/bucket-rescan.ts) — by default the stack's gateway (.data/s3) and broker (127.0.0.1:9092).
 */
import path from 'node:path';
import { rescanUploads } from '../client/bucket-rescan';
import { bucketEventsTopic, uploadsBucketFromEnv } from '../client/bucket-uploads';
import { runningGatewayStorage } from '../devstack/stack-storage';
import { s3GatewayPortFromEnv } from '../infra/config';
import { dataDir } from '../infra/paths';
import { storageConfigFromEnv } from '../storage/storage-config';
import { kafkaSettingsFromEnv } from '../topics/kafka-config';

export async function rescanBucket(): Promise<void> {
  const configured = storageConfigFromEnv();
  const s3 =
    configured.s3 ??
    runningGatewayStorage(path.join(dataDir, 's3'), `http://127.0.0.1:${s3GatewayPortFromEnv(process.env)}`, 'batch')
      .s3!;
  const kafka = kafkaSettingsFromEnv();
  const uploads = uploadsBucketFromEnv();
  const count = await rescanUploads({
    s3,
    uploads,
    brokers: kafka.brokers.length > 0 ? kafka.brokers : [`127.0.0.1:${kafka.port}`],
    log: console.log,
  });
  console.log(`${count} upload(s) of s3://${uploads.bucket}/${uploads.prefix} published to ${bucketEventsTopic}.`);
}
