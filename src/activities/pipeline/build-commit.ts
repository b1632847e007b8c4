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
 *   PID namespace where possible (src/activities/ci/build-sandbox.ts).
 * - A failing build is a result (`failed`), never an activity failure; only trouble around the
 *   build (git, disk) is retried. A repository or commit that is not there, or not allowed, is bad
 *   input: InvalidInput, not retried.
 * - Built once: a recorded result is returned without building again, across runs and retries;
 *   two runs building the same commit at once take turns (a lock file), the second finds the record.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { BuildRecord, CommitToBuild } from '../../core/commit-build';
import { git, gitAnswers } from '../../runtime/git';
import { withBuildLock } from '../ci/build-lock';
import { BuildPaths, buildPaths, readBuildRecord } from '../ci/build-records';
import { allowedRepository, defaultTimeoutSeconds, notAllowedMessage, timeoutProblem } from '../ci/build-requests';
import { BuildSandbox, pidNamespacesAvailable } from '../ci/build-sandbox';
import { buildUser } from '../ci/build-user';
import { CiSettings, buildsDirOf, ciSettingsFromEnv } from '../ci/ci-settings';
import { isCommandId, isGrantedRepository, registeredCommand } from '../ci/operator-grants';
import { runBuildCommand } from '../ci/run-build';
import { withWorktree } from '../ci/worktree';
import { invalidInput } from '../errors';
import { writeAtomically } from '../fs/atomic-write';
import type { PipelineItem } from '../../pipelines/spec';
import type { StageActivity } from './types';
import { stageActivity } from './stage-activity';

/** The file in a commit that holds its build command (run by the shell; several lines are a script). */
export const buildConfigFile = '.batch-ci';

/** A commit to build, as checked: the repository's real path and the timeout filled in. */
interface Build {
  repo: string;
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
    typeof d.repo === 'string' && path.isAbsolute(d.repo) ? '' : '"repo" (absolute path of a git repository)',
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

/** The repository's real path when the operator allows it (configuration or a CLI grant). */
async function checkAllowed(repo: string, settings: CiSettings): Promise<string> {
  const real = await allowedRepository(repo, settings.repositories);
  if (real) return real;
  const resolved = await fs.realpath(repo).catch(() => repo);
  if (await isGrantedRepository(settings.ciDir, resolved)) return resolved;
  throw invalidInput(
    `${notAllowedMessage('Repository', repo, settings.repositories)} (Or build it with \`run ci-merge ${repo}\` on the command line.)`,
    { repo },
  );
}

async function checkCommitExists(commit: Build): Promise<void> {
  if (!(await gitAnswers(commit.repo, ['rev-parse', '--git-dir']))) {
    throw invalidInput(
      `${commit.repo} is not a git repository (any more): cannot build ${commit.sha}. Check the path, or redrive once the repository is back.`,
      { repo: commit.repo, sha: commit.sha },
    );
  }
  if (!(await gitAnswers(commit.repo, ['cat-file', '-e', `${commit.sha}^{commit}`]))) {
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
async function configuredCommand(commit: Build): Promise<string | undefined> {
  const entry = (await git(commit.repo, ['ls-tree', commit.sha, '--', buildConfigFile])).trim();
  if (!/^100(644|755) blob /.test(entry)) return undefined;
  const text = (await git(commit.repo, ['cat-file', 'blob', `${commit.sha}:${buildConfigFile}`])).trim();
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
    const paths = buildPaths(buildsDirOf(settings), commit.sha, commit.commandId);
    const recorded = await readBuildRecord(paths.record);
    if (recorded) return { ...item.data, build: recorded };
    await checkCommitExists(commit);
    const command =
      commit.commandId === undefined ? undefined : await registeredCommand(settings.ciDir, commit.commandId);
    if (commit.commandId !== undefined && command === undefined) {
      throw invalidInput(
        `Item ${item.id} names build command ${commit.commandId.slice(0, 12)}…, which the operator never registered on this host: only \`run ci-merge --command\` on the command line registers commands.`,
        { item: item.id },
      );
    }
    const signal = Context.current().cancellationSignal;
    await fs.mkdir(path.dirname(paths.record), { recursive: true });
    // Another run may be building this commit right now: wait for it, then use its record.
    const build = await withBuildLock(
      paths.lock,
      signal,
      async () =>
        (await readBuildRecord(paths.record)) ??
        buildAndRecord(commit, command ?? (await configuredCommand(commit)), settings, paths, item, call.run, signal),
    );
    return { ...item.data, build };
  });
}

export const buildCommit = buildCommitActivity();

async function buildAndRecord(
  commit: Build,
  command: string | undefined,
  settings: CiSettings,
  paths: BuildPaths,
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
      : await withWorktree(commit.repo, commit.sha, { workDir: settings.workDir, user }, async (box) => {
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
    logPath: paths.log,
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
  await writeAtomically(paths.log, (tmp) => fs.writeFile(tmp, log.join('\n') + '\n'));
  // The record last: its presence means the build is complete.
  await writeAtomically(paths.record, (tmp) => fs.writeFile(tmp, JSON.stringify(record, null, 2) + '\n'));
  return record;
}
