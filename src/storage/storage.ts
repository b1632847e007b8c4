/**
 * The process's object store, chosen by the environment (src/storage/storage-config.ts): the
 * local folder `<dataDir>` by default, so key `outputs/x` is `<dataDir>/outputs/x` as it always
 * was; an S3 bucket with BATCH_STORAGE=s3. Activities call `storage()`; a worker checks it once
 * at start (`checkStorage`) so a wrong credential or a missing bucket stops it with a clear
 * message instead of failing item by item.
 */
import { dataDir } from '../infra/paths';
import { LocalObjectStore } from './local-store';
import { ObjectStore, StorageUriError } from './object-store';
import { S3ObjectStore } from './s3-store';
import { StorageConfig, storageConfigFromEnv } from './storage-config';

export function openStorage(config: StorageConfig = storageConfigFromEnv(), localRoot: string = dataDir): ObjectStore {
  if (config.kind === 's3' && config.s3) return new S3ObjectStore(config.s3);
  return new LocalObjectStore(localRoot);
}

let current: ObjectStore | undefined;

/** The configured store (created on first use). */
export function storage(): ObjectStore {
  current ??= openStorage();
  return current;
}

/** Replaces the process's store (a worker embedded in a test or a script with its own settings). */
export function useStorage(store: ObjectStore): void {
  current = store;
}

/** Fails with a StorageConfigError naming what to fix when the configured store is unusable. */
export async function checkStorage(store: ObjectStore = storage()): Promise<ObjectStore> {
  await store.check();
  return store;
}

/**
 * The store that holds `uri`: the configured one, or — for an `s3://` URI of another bucket — a
 * store on that bucket with the same endpoint and credentials. Undefined for a plain local path
 * outside the store (an input file on this host).
 */
export function storeHolding(uri: string, store: ObjectStore = storage()): ObjectStore | undefined {
  if (store.owns(uri)) return store;
  if (typeof uri === 'string' && uri.startsWith('s3://')) {
    if (!(store instanceof S3ObjectStore)) {
      throw new StorageUriError(
        `${uri} is in S3 but this process stores data in a local folder: set BATCH_STORAGE=s3 and the BATCH_S3_* settings.`,
      );
    }
    const bucket = uri.slice('s3://'.length).split('/')[0];
    return new S3ObjectStore({ ...store.settings, bucket, prefix: '' });
  }
  return undefined;
}
