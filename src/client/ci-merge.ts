/**
 * Git source (the merger's inputs): the commits of several repositories — local folders, or remote
 * URLs (file://, https://, ssh://) fetched into this host's clone cache first — that no finished
 * run has seen yet, merged into one list of pipeline items with mergeSources — interleaved round
 * robin so a busy repository cannot push a quiet one to the back, tagged with their repository
 * (the origin: Temporal fairness key), and a commit present in several repositories (a fork or
 * clone) listed once. Item: `{ id: <sha>, origin: <repo name>, data: CommitData }`.
 *
 * "Not seen yet" means not reachable from the branch tips recorded after the last finished run
 * (src/client/ci-merge-cursor.ts); `all` ignores that record and lists every commit.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CommitData } from '../core/commit-build';
import type { PipelineItem } from '../pipelines/spec';
import { isRemoteRepository } from '../activities/ci-merge/ci-settings';
import { cachedClone } from '../activities/ci-merge/clone-cache';
import { git, gitAnswers } from '../infra/git';
import { mergeSources } from '../workflows/patterns/merger';
import { readCursor, writeCursor } from './ci-merge-cursor';

export interface RepositoryCommits {
  /** Short name, unique in the listing: the items' origin. */
  name: string;
  /** Absolute path of the repository's top folder (for a remote: this host's clone of it). */
  root: string;
  /** The URL, when the repository was named by one: what items carry and builders fetch. */
  remote?: string;
  /** Branch tips now: the cursor once the run has finished. */
  tips: string[];
  /** New commits in this repository, before merging (shared ones count in every repository). */
  commits: number;
}

export interface CommitListing {
  items: PipelineItem[];
  /** Commits dropped because another repository listed them first. */
  duplicates: number;
  repositories: RepositoryCommits[];
}

export interface ListOptions {
  cursorDir: string;
  /** List every commit, not only those since the last finished run. */
  all: boolean;
  /** ID of the build command for every commit (`--command`, registered by the CLI); absent: each commit's `.batch-ci`. */
  commandId?: string;
  /** `<dataDir>/ci-merge` of this host: remote repositories are fetched into its clone cache. */
  ciDir?: string;
}

/** Longer subjects are cut: every item travels in the run's (size-limited) input. */
const subjectMax = 120;

/** The top folder of the git repository at `dir`; errors say what is wrong and what to pass instead. */
export async function repositoryRoot(dir: string): Promise<string> {
  const absolute = path.resolve(dir);
  if (!fs.existsSync(absolute)) {
    throw new Error(`Repository ${absolute} does not exist: pass the folders of local git repositories.`);
  }
  if (!(await gitAnswers(absolute, ['rev-parse', '--git-dir']))) {
    throw new Error(
      `${absolute} is not a git repository: pass the folder of a git clone (the one holding .git), or run \`git init\` there first.`,
    );
  }
  if ((await git(absolute, ['rev-parse', '--is-bare-repository'])).trim() === 'true') return fs.realpathSync(absolute);
  const root = fs.realpathSync((await git(absolute, ['rev-parse', '--show-toplevel'])).trim());
  if (root !== fs.realpathSync(absolute)) {
    throw new Error(
      `${absolute} is not the top folder of a git repository (it lies inside ${root}): pass the folder holding .git.`,
    );
  }
  return root;
}

/** Branch tips and a detached HEAD: what "the commits of a repository" are reachable from. */
async function tipsOf(root: string): Promise<string[]> {
  const branches = (await git(root, ['for-each-ref', '--format=%(objectname)', 'refs/heads'])).split('\n');
  const head = (await gitAnswers(root, ['rev-parse', '-q', '--verify', 'HEAD^{commit}']))
    ? (await git(root, ['rev-parse', 'HEAD^{commit}'])).trim()
    : '';
  return [...new Set([...branches, head].filter(Boolean))].sort();
}

/** Commits reachable from `tips` and not from `seen`, oldest first (parents before children). */
async function commitsBetween(root: string, tips: string[], seen: string[]): Promise<Omit<CommitData, 'repo'>[]> {
  if (tips.length === 0) return [];
  // --ignore-missing: a seen tip that history rewriting removed no longer limits anything.
  const out = await git(root, [
    'log',
    '--ignore-missing',
    '--reverse',
    '--date-order',
    '--format=%H%x1f%an%x1f%s',
    ...tips,
    '--not',
    ...seen,
    '--',
  ]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [sha, author, subject] = line.split('\x1f');
      return { sha, author, subject: subject.length > subjectMax ? `${subject.slice(0, subjectMax - 1)}…` : subject };
    });
}

/** Unique short names: the folder's (or URL's last) name, `-2`, `-3`… for others of the same name. */
function uniqueNames(sources: string[]): string[] {
  const used = new Set<string>();
  return sources.map((source) => {
    const base =
      path
        .basename(source.replace(/\/+$/, ''))
        .replace(/\.git$/, '')
        .replace(/[^A-Za-z0-9._-]+/g, '-') || 'repo';
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}-${n}`;
    used.add(name);
    return name;
  });
}

export async function listNewCommits(dirs: string[], options: ListOptions): Promise<CommitListing> {
  if (dirs.length === 0) throw new Error('No repositories given: pass one or more folders of git repositories.');
  // A remote is named by its URL (what items carry) and read from this host's clone of it.
  const sources = [
    ...new Set(
      await Promise.all(dirs.map((d) => (isRemoteRepository(d) ? d.trim().replace(/\/+$/, '') : repositoryRoot(d)))),
    ),
  ];
  const names = uniqueNames(sources);
  const listed = await Promise.all(
    sources.map(async (source, i) => {
      const remote = isRemoteRepository(source) ? source : undefined;
      const root = remote
        ? await cachedClone(remote, undefined, options.ciDir ?? path.join(path.dirname(options.cursorDir)))
        : source;
      const tips = await tipsOf(root);
      const seen = options.all ? [] : await readCursor(options.cursorDir, source);
      const commits = await commitsBetween(root, tips, seen);
      const items: PipelineItem[] = commits.map((c) => {
        const data: CommitData = {
          repo: source,
          ...c,
          ...(options.commandId === undefined ? {} : { commandId: options.commandId }),
        };
        return { id: c.sha, origin: names[i], data: { ...data } };
      });
      return {
        repository: { name: names[i], root, ...(remote ? { remote } : {}), tips, commits: commits.length },
        items,
      };
    }),
  );
  const merged = mergeSources(listed.map((l) => ({ origin: l.repository.name, items: l.items })));
  return { items: merged.items, duplicates: merged.duplicates, repositories: listed.map((l) => l.repository) };
}

/** Records every repository's tips: call only once the run of this listing has finished. */
export async function saveCursors(listing: CommitListing, cursorDir: string): Promise<void> {
  await Promise.all(
    listing.repositories.map((r) => writeCursor(cursorDir, { repo: r.remote ?? r.root, tips: r.tips })),
  );
}
