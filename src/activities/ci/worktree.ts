/**
 * A commit checked out in a temporary worktree (`git worktree add --detach`) for the length of
 * one build: the repository's own working folder is never touched, builds of several commits of
 * one repository run side by side, and the worktree is removed whatever the build did.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { git } from '../../runtime/git';

export async function withWorktree<T>(repo: string, sha: string, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `batch-ci-${sha.slice(0, 12)}-`));
  try {
    await git(repo, ['worktree', 'add', '--detach', '--quiet', dir, sha]);
    return await use(dir);
  } finally {
    // `remove` also drops git's record of the worktree; if it refuses (e.g. a file the build
    // locked), delete the folder and let `prune` drop the record.
    await git(repo, ['worktree', 'remove', '--force', '--force', dir]).catch(async () => {
      await fs.rm(dir, { recursive: true, force: true });
      await git(repo, ['worktree', 'prune']);
    });
  }
}
