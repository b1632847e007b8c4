/**
 * `node dist/cli/create-bucket.js` (docker-compose's one-shot `s3-setup`): creates the bucket
 * BATCH_S3_BUCKET on the S3 service of BATCH_S3_* when it is missing, waiting for the service to
 * answer first, then checks it the way a worker does at start. Exits 0 when the bucket is usable.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { StorageConfigError } from '../storage/object-store';
import { S3ObjectStore } from '../storage/s3-store';
import { storageConfigFromEnv } from '../storage/storage-config';
import { sleep } from '../infra/wait';

export async function createBucket(env: NodeJS.ProcessEnv = process.env, waitMs = 60_000): Promise<string> {
  const config = storageConfigFromEnv(env);
  if (config.kind !== 's3' || !config.s3) {
    throw new StorageConfigError('create-bucket needs BATCH_STORAGE=s3 and the BATCH_S3_* settings.');
  }
  const store = new S3ObjectStore(config.s3);
  try {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        await store.client.send(new CreateBucketCommand({ Bucket: config.s3.bucket }));
        break;
      } catch (error) {
        const name = (error as Error).name;
        if (['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(name)) break;
        const code = (error as NodeJS.ErrnoException).code ?? '';
        // The service may still be starting (compose starts both at once).
        if (!['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'].includes(code) || Date.now() > deadline) {
          await store.check();
          throw error;
        }
        await sleep(1000);
      }
    }
    await store.check();
    return `Bucket ${config.s3.bucket} is ready on ${config.s3.endpoint ?? 'AWS S3'}.`;
  } finally {
    store.client.destroy();
  }
}

if (require.main === module) {
  createBucket().then(
    (line) => console.log(line),
    (error: Error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
