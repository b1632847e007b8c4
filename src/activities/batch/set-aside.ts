import fs from 'node:fs/promises';
import path from 'node:path';
import type { ItemFailure, WorkItem } from '../../core/work-item';
import { writeAtomically } from '../fs/atomic-write';

export interface SetAsideInput {
  outputDir: string;
  item: WorkItem;
  failure: ItemFailure;
}

/**
 * Sets a failed item aside with its reason: `<outputDir>/failed/<itemId>.json`, so nothing is
 * lost and a person can see what was wrong and resubmit it. Idempotent (same path, same content).
 */
export async function setAsideItem(input: SetAsideInput): Promise<string> {
  const target = path.join(input.outputDir, 'failed', `${input.item.id}.json`);
  const record = { item: input.item, failure: input.failure };
  await writeAtomically(target, (tmp) => fs.writeFile(tmp, JSON.stringify(record, null, 2) + '\n'));
  return target;
}
