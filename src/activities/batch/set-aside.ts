import path from 'node:path';
import type { ItemFailure, WorkItem } from '../../core/work-item';
import { dataDir } from '../../infra/paths';
import { joinKey } from '../../storage/object-store';
import { storage } from '../../storage/storage';
import { folderName } from '../pipeline/run-outputs';

export interface SetAsideInput {
  /** The run's output folder, `<dataDir>/outputs/<flow>/<run>`: its place in the object store. */
  outputDir: string;
  item: WorkItem;
  failure: ItemFailure;
}

/** The store key of a run's output folder: its path under `<dataDir>` (where a run names its outputs). */
function outputKey(outputDir: string): string {
  const relative = path.relative(dataDir, path.resolve(outputDir));
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new Error(`The output folder ${outputDir} is not inside the data folder ${dataDir}; start the run again.`);
  }
  return relative.split(path.sep).join('/');
}

/**
 * Sets a failed item aside with its reason: `<run outputs>/failed/<itemId>.json` in the object
 * store (the same file under `<dataDir>` on the local backend, the bucket on S3), so nothing is
 * lost and a person can see what was wrong and resubmit it. Idempotent (same key, same content);
 * returns the record's URI.
 */
export async function setAsideItem(input: SetAsideInput): Promise<string> {
  const key = joinKey(outputKey(input.outputDir), 'failed', `${folderName(input.item.id, 'item id')}.json`);
  const record = { item: input.item, failure: input.failure };
  const put = await storage().putBytes(key, JSON.stringify(record, null, 2) + '\n', {
    contentType: 'application/json',
  });
  return put.uri;
}
