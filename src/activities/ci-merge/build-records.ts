/**
 * Where a commit's build result lives: in the object store under `ci-merge/builds/`,
 * `<sha>.json` and `<sha>.log` when the commit's own `.batch-ci` was run, `<sha>-cmd-<hash>.json/.log`
 * for a `--command` override (another command is another build; `<hash>` is the start of the
 * command's ID, its SHA-256). On the local backend that is `<dataDir>/ci-merge/builds/…`, where
 * it always was; on S3 every builder host reads and writes the same records. The log is put
 * first, the record last and only once (`ifAbsent`), so a record's presence means the build is
 * complete: this is what makes a commit built once across runs, retries and hosts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BuildRecord } from '../../core/commit-build';
import { LocalObjectStore } from '../../storage/local-store';
import type { ObjectStore } from '../../storage/object-store';
import { storage, storeHolding } from '../../storage/storage';

export const buildsPrefix = 'ci-merge/builds';

export interface BuildKeys {
  record: string;
  log: string;
}

/** The store keys of a commit's record and log. */
export function buildKeys(sha: string, commandId: string | undefined): BuildKeys {
  const variant = commandId === undefined ? '' : `-cmd-${commandId.slice(0, 8)}`;
  const base = `${buildsPrefix}/${sha}${variant}`;
  return { record: `${base}.json`, log: `${base}.log` };
}

export interface BuildPaths {
  record: string;
  log: string;
  /** Held while the commit builds on this host, so two runs building it at once build it once. */
  lock: string;
}

/** The local files of a commit's record, log and lock under `buildsDir` (the local backend's layout). */
export function buildPaths(buildsDir: string, sha: string, commandId: string | undefined): BuildPaths {
  const keys = buildKeys(sha, commandId);
  const file = (key: string) => path.join(buildsDir, path.basename(key));
  return {
    record: file(keys.record),
    log: file(keys.log),
    lock: `${file(keys.record).slice(0, -'.json'.length)}.lock`,
  };
}

/**
 * The store build records go to for a host whose data folder is `dataDir`: the configured S3
 * bucket, or the local folder `dataDir` itself (so a test or CLI with its own data folder finds
 * its records where a worker on that folder writes them).
 */
export function buildStoreFor(dataDir: string, store: ObjectStore = storage()): ObjectStore {
  return store.kind === 'local' ? new LocalObjectStore(dataDir) : store;
}

/** The record a URI (or local path) names, or undefined when the commit has not been built (with this command) yet. */
export async function readBuildRecord(uri: string, store: ObjectStore = storage()): Promise<BuildRecord | undefined> {
  const holder = storeHolding(uri, store);
  let text: string;
  if (holder) {
    const bytes = await holder.getBytes(holder.keyOf(uri));
    if (!bytes) return undefined;
    text = bytes.toString('utf8');
  } else {
    try {
      text = await fs.readFile(uri, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
  return JSON.parse(text) as BuildRecord;
}

/** The text of a build's log (`record.logPath`: a local path or an `s3://` URI). */
export async function readBuildLog(uri: string, store: ObjectStore = storage()): Promise<string | undefined> {
  const holder = storeHolding(uri, store);
  if (holder) return (await holder.getBytes(holder.keyOf(uri)))?.toString('utf8');
  return fs.readFile(uri, 'utf8').catch(() => undefined);
}
