/**
 * Remote repositories on a builder host: each host keeps its own bare clone of every remote it
 * builds, `<dataDir>/ci-merge/clones/<hash of the URL>.git`, made on first use and fetched into
 * when a commit to build is not in it yet; build worktrees are made from it. Nothing of it is
 * shared: a host that never saw a repository clones it, a host that dies loses only its cache.
 *
 * Every git call goes through ci-git.ts (GIT_ALLOW_PROTOCOL=file:https:ssh): a remote of another
 * transport — `ext::sh -c …` above all — is refused by git before anything runs, and that refusal
 * is the item's InvalidInput, as is a remote that is not a git repository or lacks the commit.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { GitError } from '../../infra/git';
import { invalidInput } from '../errors';
import { withBuildLock } from './build-lock';
import { ciGit, ciGitAnswers } from './ci-git';

/** The cache folder of `url` under this host's `ciDir`. */
export function cloneCacheDir(ciDir: string, url: string): string {
  return path.join(ciDir, 'clones', `${createHash('sha256').update(url).digest('hex').slice(0, 24)}.git`);
}

/** git's answers that no retry can change: the transport is refused, or there is no repository. */
const permanent =
  /transport '[^']*' not allowed|unsupported protocol|does not appear to be a git repository|not a git repository|repository '.*' not found/i;

function fetchFailure(url: string, error: unknown): Error {
  if (error instanceof GitError && permanent.test(error.stderr)) {
    const lines = error.stderr.trim().split('\n');
    const fatal = lines.find((l) => l.startsWith('fatal: ')) ?? lines[lines.length - 1];
    const said = fatal.replace(/^fatal: /, '').replace(/\.$/, '');
    return invalidInput(
      `The builder cannot fetch ${url}: ${said}. Only file://, https:// and ssh:// remotes that hold a git repository are built; fix the entry in BATCH_CI_REPOSITORIES.`,
      { repo: url },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The local bare clone of `url` on this host, holding `sha` (fetched when missing; with no `sha`,
 * fetched always: the CLI listing new commits). Concurrent
 * builds on this host take turns on one cache (a lock file); a half-made clone is never used (it
 * is made under a temporary name and renamed).
 */
export async function cachedClone(
  url: string,
  sha: string | undefined,
  ciDir: string,
  signal: AbortSignal = new AbortController().signal,
): Promise<string> {
  const cache = cloneCacheDir(ciDir, url);
  await fs.mkdir(path.dirname(cache), { recursive: true });
  return withBuildLock(`${cache}.lock`, signal, async () => {
    const exists = await fs.stat(cache).then(
      () => true,
      () => false,
    );
    if (!exists) {
      const tmp = `${cache}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await ciGit(path.dirname(cache), ['clone', '--bare', '--quiet', '--', url, tmp]);
        // Which remote this is, for a person looking at the cache.
        await fs.writeFile(path.join(tmp, 'description'), `${url}\n`);
        await fs.rename(tmp, cache);
      } catch (error) {
        await fs.rm(tmp, { recursive: true, force: true });
        throw fetchFailure(url, error);
      }
    }
    const fresh = !exists && sha === undefined;
    if (!fresh && !(sha !== undefined && (await ciGitAnswers(cache, ['cat-file', '-e', `${sha}^{commit}`])))) {
      await ciGit(cache, [
        'fetch',
        '--quiet',
        '--prune',
        '--',
        url,
        '+refs/heads/*:refs/heads/*',
        '+refs/tags/*:refs/tags/*',
      ]).catch((error: unknown) => {
        throw fetchFailure(url, error);
      });
    }
    return cache;
  });
}
