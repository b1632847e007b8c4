/**
 * Stage activity `build-commit` (the CI merge flow): checks one commit out in a temporary
 * worktree, runs its build command there and records `{status, exitCode, durationMs, logPath}`.
 *
 * - A failing build is a result (`failed`), never an activity failure; only trouble around the
 *   build (git, disk) is retried.
 * - A repository or commit that is not there is bad input: InvalidInput, not retried.
 * - Built once: a recorded result is returned without building again, across runs and retries;
 *   two runs building the same commit at once take turns (a lock file), the second finds the record.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { BuildRecord, CommitToBuild } from '../../core/commit-build';
import { gitAnswers } from '../../runtime/git';
import { withBuildLock } from '../ci/build-lock';
import { BuildPaths, buildPaths, readBuildRecord } from '../ci/build-records';
import { runBuildCommand } from '../ci/run-build';
import { withWorktree } from '../ci/worktree';
import { invalidInput } from '../errors';
import { writeAtomically } from '../fs/atomic-write';
import type { PipelineItem } from '../../pipelines/spec';
import { stageActivity } from './stage-activity';

/** The file in a commit that holds its build command (run by the shell; several lines are a script). */
export const buildConfigFile = '.batch-ci';

function commitOf(item: PipelineItem): CommitToBuild {
  const d = item.data as Partial<CommitToBuild>;
  const problems = [
    typeof d.repo === 'string' && path.isAbsolute(d.repo) ? '' : '"repo" (absolute path of a git repository)',
    typeof d.sha === 'string' && /^[0-9a-f]{40,64}$/.test(d.sha) ? '' : '"sha" (a full commit hash)',
    typeof d.buildsDir === 'string' && path.isAbsolute(d.buildsDir) ? '' : '"buildsDir" (absolute folder)',
    typeof d.timeoutSeconds === 'number' && d.timeoutSeconds > 0 ? '' : '"timeoutSeconds" (a positive number)',
    d.command === undefined || typeof d.command === 'string' ? '' : '"command" (a string, or absent)',
  ].filter(Boolean);
  if (problems.length > 0) {
    throw invalidInput(`Item ${item.id} is not a commit to build: it needs ${problems.join(', ')}.`, { item: item.id });
  }
  return d as CommitToBuild;
}

async function checkCommitExists(commit: CommitToBuild): Promise<void> {
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

/** The commit's own build command, or undefined when it has no `.batch-ci`. */
async function configuredCommand(worktree: string): Promise<string | undefined> {
  try {
    const text = (await fs.readFile(path.join(worktree, buildConfigFile), 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export const buildCommit = stageActivity(async (item, call) => {
  const commit = commitOf(item);
  const paths = buildPaths(commit.buildsDir, commit.sha, commit.command);
  const recorded = await readBuildRecord(paths.record);
  if (recorded) return { ...item.data, build: recorded };
  await checkCommitExists(commit);
  const signal = Context.current().cancellationSignal;
  await fs.mkdir(commit.buildsDir, { recursive: true });
  // Another run may be building this commit right now: wait for it, then use its record.
  const build = await withBuildLock(
    paths.lock,
    signal,
    async () => (await readBuildRecord(paths.record)) ?? buildAndRecord(commit, paths, item, call.run, signal),
  );
  return { ...item.data, build };
});

async function buildAndRecord(
  commit: CommitToBuild,
  paths: BuildPaths,
  item: PipelineItem,
  run: string,
  signal: AbortSignal,
): Promise<BuildRecord> {
  const { command, result } = await withWorktree(commit.repo, commit.sha, async (dir) => {
    const command = commit.command ?? (await configuredCommand(dir));
    if (command === undefined) return { command: '', result: undefined };
    return {
      command,
      result: await runBuildCommand(command, { cwd: dir, timeoutMs: commit.timeoutSeconds * 1000, signal }),
    };
  });
  signal.throwIfAborted();

  const record: BuildRecord = {
    sha: commit.sha,
    repo: item.origin ?? path.basename(commit.repo),
    subject: commit.subject,
    command,
    status: result?.exitCode === 0 ? 'passed' : 'failed',
    exitCode: result?.exitCode ?? null,
    timedOut: result?.timedOut ?? false,
    durationMs: result?.durationMs ?? 0,
    logPath: paths.log,
    builtInRun: run,
  };
  const log = result
    ? [
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
