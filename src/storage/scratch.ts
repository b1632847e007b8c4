/**
 * A worker host's scratch space: inputs are downloaded here and outputs made here before they are
 * uploaded. One folder per item attempt, `<dataDir>/scratch/<pid>.<random>/`, removed when the
 * attempt ends; folders of processes that died (SIGKILL, power loss) are removed when a worker
 * starts. Nothing in scratch is ever read by another host or another attempt.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { processAlive } from '../infra/atomic-write';
import { dataDir } from '../infra/paths';

export const scratchRoot = (root: string = dataDir): string => path.join(root, 'scratch');

/** Runs `work` with a fresh scratch folder and removes the folder afterwards, whatever happened. */
export async function withScratch<T>(work: (dir: string) => Promise<T>, root: string = dataDir): Promise<T> {
  const dir = path.join(scratchRoot(root), `${process.pid}.${randomBytes(6).toString('hex')}`);
  await fs.mkdir(dir, { recursive: true });
  try {
    return await work(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Removes scratch folders whose process is gone; returns how many. */
export async function removeOrphanScratch(root: string = dataDir): Promise<number> {
  const entries = await fs.readdir(scratchRoot(root)).catch(() => [] as string[]);
  let removed = 0;
  for (const name of entries) {
    const pid = Number(name.split('.')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) {
      await fs.rm(path.join(scratchRoot(root), name), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}
