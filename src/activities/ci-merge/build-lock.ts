/**
 * One build of a commit at a time: a lock file beside the build record (created exclusively,
 * holding the builder's pid). A second build of the same commit — another run, at the same
 * moment — waits for the first and then finds its record instead of building again. A lock whose
 * process is gone (a killed worker) is taken over. Builders share the builds folder, so this holds
 * across processes on one host and wherever that folder is shared with working exclusive create.
 */
import fs from 'node:fs/promises';
import { sleep } from '../../infra/wait';
import { processAlive } from '../../infra/atomic-write';

const pollMs = 250;

async function tryLock(lockFile: string): Promise<boolean> {
  try {
    await fs.writeFile(lockFile, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number(await fs.readFile(lockFile, 'utf8').catch(() => ''));
    // A lock being written right now reads empty: wait for it rather than take it.
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) await fs.rm(lockFile, { force: true });
    return false;
  }
}

export async function withBuildLock<T>(lockFile: string, signal: AbortSignal, body: () => Promise<T>): Promise<T> {
  while (!(await tryLock(lockFile))) {
    signal.throwIfAborted();
    await sleep(pollMs);
  }
  try {
    return await body();
  } finally {
    await fs.rm(lockFile, { force: true });
  }
}
