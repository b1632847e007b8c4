/**
 * How the media flows' activities reach the object store (src/storage): keys of a run's outputs,
 * whole reads of small stored files (thumbnails, frames) and copies between keys. A URI in item
 * data is the store's (`s3://…`, or an absolute path on the local backend) or a plain local path
 * (an input on this host, local backend only); nothing here reads another host's disk.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { joinKey, ObjectMissingError, type PutResult } from '../../storage/object-store';
import { publishFile } from '../../storage/stage-files';
import { storage, storeHolding } from '../../storage/storage';
import { folderName } from '../pipeline/run-outputs';

/** `outputs/<pipeline>/<run>/<...parts>`: the key of a run's output (on the local backend `<dataDir>/outputs/…`). */
export function runOutputKey(pipeline: string, run: string, ...parts: string[]): string {
  return joinKey('outputs', folderName(pipeline, 'pipeline name'), folderName(run, 'run name'), ...parts);
}

/** Where the run's results parts are: `results/<pipeline>/<run>` of the store (a folder on the local backend). */
export function runResultsLocation(pipeline: string, run: string): string {
  return storage().uriOf(joinKey('results', folderName(pipeline, 'pipeline name'), folderName(run, 'run name')));
}

/** The bytes a stored URI (or a local path) names; an ObjectMissingError when there are none. */
export async function readStored(uri: string): Promise<Buffer> {
  const holder = storeHolding(uri);
  if (!holder || holder.kind === 'local') return fs.readFile(uri);
  const bytes = await holder.getBytes(holder.keyOf(uri));
  if (!bytes) throw new ObjectMissingError(uri);
  return bytes;
}

/**
 * Copies the object at `from` to `to` once (ifAbsent): on the local backend a file copy, on S3 a
 * download into `scratchDir` and an upload (the objects are small: frames and thumbnails).
 */
export async function copyStored(from: string, to: string, scratchDir: string): Promise<PutResult> {
  const store = storage();
  if (store.kind === 'local') return publishFile(store.uriOf(from), to);
  const file = path.join(scratchDir, 'copy', path.basename(from));
  await fs.mkdir(path.dirname(file), { recursive: true });
  await store.download(from, file);
  try {
    return await publishFile(file, to);
  } finally {
    await fs.rm(file, { force: true });
  }
}

/** Small JSON at a key, or undefined when absent or unreadable. */
export async function readStoredJson<T>(key: string): Promise<T | undefined> {
  try {
    const bytes = await storage().getBytes(key);
    return bytes ? (JSON.parse(bytes.toString('utf8')) as T) : undefined;
  } catch {
    return undefined;
  }
}
