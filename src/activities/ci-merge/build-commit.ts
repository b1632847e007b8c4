/**
 * Stage activity `build-commit` (the CI merge flow): checks one commit out in a temporary
 * worktree, runs its build command there in a sandbox and records
 * `{status, exitCode, durationMs, logPath}`.
 *
 * - Trusts the host, never the item: the repository must be on the operator's allowlist
 *   (BATCH_CI_REPOSITORIES, or granted by the operator's CLI); the command is the commit's own
 *   `.batch-ci` or one the operator's CLI registered (`commandId`), never one in the item data
 *   (refused); the builds folder is the server's (an item's `buildsDir` is ignored). Whoever can
 *   start a workflow thus cannot make a worker run a command of their choosing.
 * - Builds run as an unprivileged user when the worker is root, with a minimal environment, in a
 *   PID namespace where possible (src/activities/ci-merge/build-sandbox.ts).
 * - A failing build is a result (`failed`), never an activity failure; only trouble around the
 *   build (git, disk) is retried. A repository or commit that is not there, or not allowed, is bad
 *   input: InvalidInput, not retried.
 * - Repositories by folder (on this host) or by URL (file://, https://, ssh://): a remote is
 *   fetched into this host's own clone cache (src/activities/ci-merge/clone-cache.ts); every git call has
 *   GIT_ALLOW_PROTOCOL=file:https:ssh (src/activities/ci-merge/ci-git.ts).
 * - Built once: the record and log are in the object store (`ci-merge/builds/…`, the record put
 *   once), so a recorded result is returned without building again across runs, retries and hosts;
 *   two runs building the same commit at once on one host take turns (a lock file), the second
 *   finds the record.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { BuildRecord, CommitToBuild } from '../../core/commit-build';
import type { ObjectStore } from '../../storage/object-store';
import { withBuildLock } from './build-lock';
import { BuildKeys, buildKeys, buildPaths, buildStoreFor, readBuildRecord } from './build-records';
import { allowedRepository, defaultTimeoutSeconds, notAllowedMessage, timeoutProblem } from './build-requests';
import { BuildSandbox, pidNamespacesAvailable } from './build-sandbox';
import { buildUser } from './build-user';
import { ciGit, ciGitAnswers } from './ci-git';
import { CiSettings, buildsDirOf, ciSettingsFromEnv, isRemoteRepository } from './ci-settings';
import { cachedClone } from './clone-cache';
import { isCommandId, isGrantedRepository, registeredCommand } from './operator-grants';
import { runBuildCommand } from './run-build';
import { withWorktree } from './worktree';
import { invalidInput } from '../errors';
import type { PipelineItem } from '../../pipelines/spec';
import type { StageActivity } from '../pipeline/types';
import { stageActivity } from '../pipeline/stage-activity';

/** The file in a commit that holds its build command (run by the shell; several lines are a script). */
export const buildConfigFile = '.batch-ci';

/** A commit to build, as checked: the repository's real path (or allowed URL) and the timeout filled in. */
interface Build {
  repo: string;
  /** The git folder on this host: `repo` itself, or this host's clone of a remote. */
  local?: string;
  sha: string;
  subject?: string;
  commandId?: string;
  timeoutSeconds: number;
}

function commitOf(item: PipelineItem): Build {
  const d = (item.data ?? {}) as Partial<CommitToBuild> & { command?: unknown };
  if (d.command !== undefined) {
    throw invalidInput(
      `Item ${item.id} carries a build command in its data: refused. A build runs its commit's own ${buildConfigFile} file, or a command the operator registered with \`run ci-merge --command\` on the command line.`,
      { item: item.id },
    );
  }
  const problems = [
    repoProblem(d.repo),
    typeof d.sha === 'string' && /^[0-9a-f]{40,64}$/.test(d.sha) ? '' : '"sha" (a full commit hash)',
    timeoutProblem(d.timeoutSeconds),
    d.commandId === undefined || isCommandId(d.commandId) ? '' : '"commandId" (a registered command\'s ID, or absent)',
  ].filter(Boolean);
  if (problems.length > 0) {
    throw invalidInput(`Item ${item.id} is not a commit to build: it needs ${problems.join(', ')}.`, { item: item.id });
  }
  return {
    repo: d.repo!,
    sha: d.sha!,
    subject: typeof d.subject === 'string' ? d.subject : undefined,
    commandId: d.commandId,
    timeoutSeconds: d.timeoutSeconds ?? defaultTimeoutSeconds,
  };
}

/** What is wrong with an item's `repo`, or '' when it names a folder or a remote. */
function repoProblem(repo: unknown): string {
  const ok =
    typeof repo === 'string' &&
    repo.length <= 2048 &&
    !/[\0\r\n]/.test(repo) &&
    (path.isAbsolute(repo) || /^[^-\s]/.test(repo));
  return ok ? '' : '"repo" (absolute path or URL of a git repository)';
}

/** The repository's real path (or URL) when the operator allows it (configuration or a CLI grant). */
async function checkAllowed(repo: string, settings: CiSettings): Promise<string> {
  const real = await allowedRepository(repo, settings.repositories);
  if (real) return real;
  const resolved = isRemoteRepository(repo) ? repo : await fs.realpath(repo).catch(() => repo);
  if (await isGrantedRepository(settings.ciDir, resolved)) return resolved;
  throw invalidInput(
    `${notAllowedMessage('Repository', repo, settings.repositories)} (Or build it with \`run ci-merge ${repo}\` on the command line.)`,
    { repo },
  );
}

/** Where git finds the commit on this host: the folder, or (a remote) this host's clone cache, fetched as needed. */
async function localRepository(commit: Build, settings: CiSettings, signal: AbortSignal): Promise<string> {
  return isRemoteRepository(commit.repo) ? cachedClone(commit.repo, commit.sha, settings.ciDir, signal) : commit.repo;
}

async function checkCommitExists(commit: Build & { local: string }): Promise<void> {
  if (!(await ciGitAnswers(commit.local, ['rev-parse', '--git-dir']))) {
    throw invalidInput(
      `${commit.repo} is not a git repository (any more): cannot build ${commit.sha}. Check the path, or redrive once the repository is back.`,
      { repo: commit.repo, sha: commit.sha },
    );
  }
  if (!(await ciGitAnswers(commit.local, ['cat-file', '-e', `${commit.sha}^{commit}`]))) {
    throw invalidInput(
      `Commit ${commit.sha} is not in ${commit.repo} (history rewritten, or a wrong sha?): nothing to build.`,
      { repo: commit.repo, sha: commit.sha },
    );
  }
}

/**
 * The commit's own build command, or undefined when it has no `.batch-ci`. Read from git, not the
 * checkout: a `.batch-ci` that is a symbolic link (e.g. to a secret of the worker) is not followed.
 */
async function configuredCommand(commit: Build & { local: string }): Promise<string | undefined> {
  const entry = (await ciGit(commit.local, ['ls-tree', commit.sha, '--', buildConfigFile])).trim();
  if (!/^100(644|755) blob /.test(entry)) return undefined;
  const text = (await ciGit(commit.local, ['cat-file', 'blob', `${commit.sha}:${buildConfigFile}`])).trim();
  return text === '' ? undefined : text;
}

/** The fallback containment is said once per worker process, in its log. */
let warnedNoNamespace = false;

/** The build activity with its settings (tests give their own; workers read the environment). */
export function buildCommitActivity(settingsOf: () => CiSettings = () => ciSettingsFromEnv()): StageActivity {
  return stageActivity(async (item, call) => {
    const settings = settingsOf();
    const given = commitOf(item);
    const commit: Build = { ...given, repo: await checkAllowed(given.repo, settings) };
    const store = settings.store ?? buildStoreFor(path.dirname(settings.ciDir));
    const keys = buildKeys(commit.sha, commit.commandId);
    const recorded = await readBuildRecord(store.uriOf(keys.record), store);
    if (recorded) return { ...item.data, build: recorded };
    const signal = Context.current().cancellationSignal;
    const local = { ...commit, local: await localRepository(commit, settings, signal) };
    await checkCommitExists(local);
    const command =
      commit.commandId === undefined ? undefined : await registeredCommand(settings.ciDir, commit.commandId);
    if (commit.commandId !== undefined && command === undefined) {
      throw invalidInput(
        `Item ${item.id} names build command ${commit.commandId.slice(0, 12)}…, which the operator never registered on this host: only \`run ci-merge --command\` on the command line registers commands.`,
        { item: item.id },
      );
    }
    const lock = buildPaths(buildsDirOf(settings), commit.sha, commit.commandId).lock;
    await fs.mkdir(path.dirname(lock), { recursive: true });
    // Another run on this host may be building this commit right now: wait for it, then use its
    // record. (Builders on other hosts do not see this lock: the record's conditional put keeps
    // the first of two simultaneous builds.)
    const build = await withBuildLock(
      lock,
      signal,
      async () =>
        (await readBuildRecord(store.uriOf(keys.record), store)) ??
        buildAndRecord(
          local,
          command ?? (await configuredCommand(local)),
          settings,
          { store, keys },
          item,
          call.run,
          signal,
        ),
    );
    return { ...item.data, build };
  });
}

export const buildCommit = buildCommitActivity();

async function buildAndRecord(
  commit: Build & { local: string },
  command: string | undefined,
  settings: CiSettings,
  where: { store: ObjectStore; keys: BuildKeys },
  item: PipelineItem,
  run: string,
  signal: AbortSignal,
): Promise<BuildRecord> {
  const user = await buildUser(settings.buildUser);
  const pidNamespace = settings.containment === 'auto' && (await pidNamespacesAvailable());
  if (!pidNamespace && !warnedNoNamespace) {
    warnedNoNamespace = true;
    Context.current().log.warn(
      'builds are contained by their process group only (no PID namespace: the worker is not root, or unshare is not allowed); a build process that leaves its group and clears its environment can outlive the build',
    );
  }
  const result =
    command === undefined
      ? undefined
      : await withWorktree(commit.local, commit.sha, { workDir: settings.workDir, user }, async (box) => {
          const sandbox: BuildSandbox = { user, home: box.home, pidNamespace };
          return runBuildCommand(command, { cwd: box.src, timeoutMs: commit.timeoutSeconds * 1000, signal, sandbox });
        });
  signal.throwIfAborted();

  const record: BuildRecord = {
    sha: commit.sha,
    repo: item.origin ?? path.basename(commit.repo),
    subject: commit.subject ?? '',
    command: command ?? '',
    status: result?.exitCode === 0 ? 'passed' : 'failed',
    exitCode: result?.exitCode ?? null,
    timedOut: result?.timedOut ?? false,
    durationMs: result?.durationMs ?? 0,
    logPath: where.store.uriOf(where.keys.log),
    builtInRun: run,
  };
  const containment = pidNamespace ? 'its own PID namespace' : 'its own process group (no PID namespace here)';
  const log = result
    ? [
        `# Built as ${user ? `${user.name} (uid ${user.uid})` : "the worker's user"} in ${containment}, with a minimal environment.`,
        `$ ${command}`,
        result.output.trimEnd(),
        result.timedOut
          ? `Timed out after ${commit.timeoutSeconds} s: the build was killed.`
          : `Exit code ${result.exitCode ?? 'none (killed by a signal)'} after ${(result.durationMs / 1000).toFixed(1)} s: ${record.status}.`,
      ]
    : [
        `Commit ${commit.sha} has no ${buildConfigFile} file, so there is no build command to run.`,
        `Commit a ${buildConfigFile} holding the command (e.g. \`npm test\`), or run with --command "<command>".`,
      ];
  // The log may be replaced (a build whose record was never written ran again); the record is
  // written last and once: its presence means the build is complete, and of two builders that
  // finished the same commit at once (on two hosts) the first record stays and both return it.
  await where.store.putBytes(where.keys.log, log.join('\n') + '\n', { contentType: 'text/plain; charset=utf-8' });
  const put = await where.store.putBytes(where.keys.record, JSON.stringify(record, null, 2) + '\n', {
    ifAbsent: true,
    contentType: 'application/json',
  });
  return put.created ? record : ((await readBuildRecord(put.uri, where.store)) ?? record);
}
