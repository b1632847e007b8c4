/**
 * A commit checked out in a temporary worktree (`git worktree add --detach`) for the length of
 * one build: the repository's own working folder is never touched, builds of several commits of
 * one repository run side by side, and the worktree is removed whatever the build did.
 *
 * A worker killed mid-build (SIGKILL) cannot remove its worktree. Each worktree therefore has an
 * owner file beside it (`<dir>.owner`: pid and repository); the next build on this host removes
 * the worktrees whose owner process is gone.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { git } from '../../runtime/git';
import { processAlive } from '../fs/atomic-write';

const prefix = 'batch-ci-';

interface Owner {
  pid: number;
  repo: string;
}

async function removeWorktree(repo: string, dir: string): Promise<void> {
  // `remove` also drops git's record of the worktree; if it refuses (e.g. a file the build
  // locked, or the repository is gone), delete the folder and let `prune` drop the record.
  await git(repo, ['worktree', 'remove', '--force', '--force', dir]).catch(async () => {
    await fs.rm(dir, { recursive: true, force: true });
    await git(repo, ['worktree', 'prune']).catch(() => undefined);
  });
}

/** Removes the worktrees left by builds whose process died; returns the folders removed. */
export async function removeOrphanWorktrees(tmp = os.tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.readdir(tmp)) {
    if (!name.startsWith(prefix) || !name.endsWith('.owner')) continue;
    const ownerFile = path.join(tmp, name);
    const owner = await fs
      .readFile(ownerFile, 'utf8')
      .then((text) => JSON.parse(text) as Owner)
      .catch(() => undefined);
    if (!owner || processAlive(owner.pid)) continue;
    const dir = ownerFile.slice(0, -'.owner'.length);
    await removeWorktree(owner.repo, dir);
    await fs.rm(ownerFile, { force: true });
    removed.push(dir);
  }
  return removed;
}

export async function withWorktree<T>(repo: string, sha: string, use: (dir: string) => Promise<T>): Promise<T> {
  await removeOrphanWorktrees();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${prefix}${sha.slice(0, 12)}-`));
  const ownerFile = `${dir}.owner`;
  await fs.writeFile(ownerFile, JSON.stringify({ pid: process.pid, repo } satisfies Owner));
  try {
    await git(repo, ['worktree', 'add', '--detach', '--quiet', dir, sha]);
    return await use(dir);
  } finally {
    await removeWorktree(repo, dir);
    await fs.rm(ownerFile, { force: true });
  }
}
