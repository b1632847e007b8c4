/**
 * A real S3 server for a suite: the Versity gateway the project builds (src/devstack/s3-gateway.ts)
 * on a free port over a fresh folder under test-output/, with one bucket. Suites share nothing:
 * each starts its own and stops it in `after`.
 */
import type { ObjectStore } from '../../src/storage/object-store';
import { S3ObjectStore } from '../../src/storage/s3-store';
import { storageEnv } from '../../src/storage/storage-config';
import { S3Gateway, startS3Gateway } from '../../src/devstack/s3-gateway';
import { freePort } from '../../src/infra/wait';
import { outputFolder } from './media';

export interface TestS3 {
  gateway: S3Gateway;
  store: S3ObjectStore;
  /** BATCH_STORAGE=s3 and the BATCH_S3_* settings, for worker processes. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startTestS3(name: string, bucket = 'batch-test'): Promise<TestS3> {
  const gateway = await startS3Gateway({ dir: outputFolder(`s3-${name}`), port: await freePort(), buckets: [bucket] });
  const store = new S3ObjectStore(gateway.storage.s3);
  return {
    gateway,
    store,
    env: storageEnv(gateway.storage),
    stop: async () => {
      store.client.destroy();
      await gateway.stop();
    },
  };
}

/** Every key under `prefix`, all pages, in key order. */
export async function allKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let after: string | undefined;
  do {
    const page = await store.list(prefix, { after, limit: 1000 });
    keys.push(...page.objects.map((o) => o.key));
    after = page.next;
  } while (after !== undefined);
  return keys;
}
