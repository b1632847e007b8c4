/**
 * A commit checked out in a temporary worktree (`git worktree add --detach`) for the length of
 * one build: the repository's own working folder is never touched, builds of several commits of
 * one repository run side by side, and the worktree is removed whatever the build did.
 *
 * Layout: a box `<workDir>/batch-ci-<sha>-XXXXXX/` (mode 700) holding `src/` (the worktree) and
 * `home/` (the build's HOME). git runs as the worker (root or not), with the repository's hooks
 * off; when builds run as another user the box is then handed to that user (chown), so the build
 * reaches its files even when the repository lives somewhere it cannot (root's home is mode 700).
 *
 * A worker killed mid-build (SIGKILL) cannot remove its worktree. Each box therefore has an owner
 * file beside it (`<box>.owner`: pid and repository); the next build on this host removes the
 * boxes whose owner process is gone.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ciGit as git } from './ci-git';
import { processAlive } from '../../infra/atomic-write';
import type { BuildUser } from './build-user';
import { ciSettingsFromEnv } from './ci-settings';

const prefix = 'batch-ci-';

interface Owner {
  pid: number;
  repo: string;
}

/** A build's folders: the checked-out commit and the build's HOME. */
export interface BuildBox {
  src: string;
  home: string;
}

export interface WorktreeOptions {
  /** Parent of the boxes; the build user must be able to reach it. */
  workDir: string;
  /** Who the box is handed to (builds run as this user); absent: it stays the worker's. */
  user?: BuildUser;
}

async function removeBox(repo: string, box: string): Promise<void> {
  const src = path.join(box, 'src');
  // `remove` also drops git's record of the worktree; if it refuses (e.g. a file the build
  // locked, or the repository is gone), delete the folder and let `prune` drop the record.
  await git(repo, ['worktree', 'remove', '--force', '--force', src]).catch(() => undefined);
  await fs.rm(box, { recursive: true, force: true });
  await git(repo, ['worktree', 'prune']).catch(() => undefined);
}

/** Removes the boxes left by builds whose process died; returns the folders removed. */
export async function removeOrphanWorktrees(workDir = ciSettingsFromEnv().workDir): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.readdir(workDir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix) || !name.endsWith('.owner')) continue;
    const ownerFile = path.join(workDir, name);
    const owner = await fs
      .readFile(ownerFile, 'utf8')
      .then((text) => JSON.parse(text) as Owner)
      .catch(() => undefined);
    if (!owner || processAlive(owner.pid)) continue;
    const box = ownerFile.slice(0, -'.owner'.length);
    await removeBox(owner.repo, box);
    await fs.rm(ownerFile, { force: true });
    removed.push(box);
  }
  return removed;
}

/** Refuses a work folder the build user cannot reach (e.g. under /root, mode 700), saying what to do. */
async function checkReachable(workDir: string, user: BuildUser): Promise<void> {
  for (let dir = workDir; ; dir = path.dirname(dir)) {
    const st = await fs.stat(dir);
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) {
      throw new Error(
        `The build user ${user.name} cannot reach ${workDir}: ${dir} is mode ${(st.mode & 0o777).toString(8)}. Set BATCH_CI_WORK_DIR to a folder it can reach (e.g. /var/tmp).`,
      );
    }
    if (dir === path.dirname(dir)) return;
  }
}

export async function withWorktree<T>(
  repo: string,
  sha: string,
  options: WorktreeOptions,
  use: (box: BuildBox) => Promise<T>,
): Promise<T> {
  await fs.mkdir(options.workDir, { recursive: true });
  if (options.user) await checkReachable(options.workDir, options.user);
  await removeOrphanWorktrees(options.workDir);
  const box = await fs.mkdtemp(path.join(options.workDir, `${prefix}${sha.slice(0, 12)}-`));
  const ownerFile = `${box}.owner`;
  await fs.writeFile(ownerFile, JSON.stringify({ pid: process.pid, repo } satisfies Owner));
  const folders: BuildBox = { src: path.join(box, 'src'), home: path.join(box, 'home') };
  try {
    // Hooks of the repository would run as the worker (root): a checkout for a build needs none.
    await git(repo, ['-c', 'core.hooksPath=/dev/null', 'worktree', 'add', '--detach', '--quiet', folders.src, sha]);
    await fs.mkdir(folders.home);
    // git in the build reads a repository the build user does not own: allow it (global config).
    await fs.writeFile(path.join(folders.home, '.gitconfig'), '[safe]\n\tdirectory = *\n');
    if (options.user) {
      // -h -R: symbolic links in the commit are changed themselves, never followed.
      await promisify(execFile)('chown', ['-hR', `${options.user.uid}:${options.user.gid}`, box]);
    }
    return await use(folders);
  } finally {
    await removeBox(repo, box);
    await fs.rm(ownerFile, { force: true });
  }
}
