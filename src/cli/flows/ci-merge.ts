/**
 * Flow `ci-merge` (the seeds' merger): several local git repositories are the sources; their new
 * commits merge into one pipeline (pipelines/examples/ci-merge.yaml) that builds each commit in
 * a temporary worktree, records passed/failed and its output, joins, and counts results per
 * status and repository. Fair across repositories; a commit seen twice (a clone, a later run)
 * is built once.
 *
 *   npm run cli -- run ci-merge <repo dirs or URLs...> [--command CMD] [--all] [--timeout SECONDS] [--run NAME]
 *
 * Build results and logs are in the object store (`ci-merge/builds/`: under the data folder on the
 * local backend, in the bucket on S3). State under `<dataDir>/ci-merge/`: `cursors/`
 * (per repository, the branch tips of the last finished run) and `operator/` (the repositories and
 * `--command`s this command line allowed: the workers run nothing else that items ask for).
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildConfigFile } from '../../activities/ci-merge/build-commit';
import { buildKeys, buildStoreFor, readBuildRecord } from '../../activities/ci-merge/build-records';
import { grantRepository, registerCommand } from '../../activities/ci-merge/operator-grants';
import { startPipelineRun } from '../../client/pipeline-run';
import type { BuildRecord, CommitData, CommitToBuild } from '../../core/commit-build';
import { loadPipelineSpecFile } from '../../pipelines/load';
import type { PipelineItem } from '../../pipelines/spec';
import { workflowUrl } from '../../infra/config';
import { gitAnswers } from '../../infra/git';
import { displayPath, repoRoot } from '../../infra/paths';
import { CommitListing, listNewCommits, saveCursors } from '../../client/ci-merge';
import { runNameOf, runNameOption, wholeNumber } from '../command';
import { watchPipelineRun } from '../watch-run';
import { createDemoRepositories } from './ci-merge-demo-repos';
import { formatCiMergeSummary, plural } from './ci-merge-summary';
import { defineFlow, type FlowContext } from './flow';

export interface CiMergeOptions {
  repos: string[];
  /** Build command for every commit; absent: each commit's `.batch-ci`. */
  command?: string;
  /** Every commit, not only those since the last finished run (recorded results are reused). */
  all: boolean;
  timeoutSeconds: number;
  runName: string;
}

const specFile = path.join(repoRoot, 'pipelines', 'examples', 'ci-merge.yaml');
const defaultTimeoutSeconds = 600;
/** The build stage's activity timeout is 1 hour: a build must be stopped before it. */
const maxTimeoutSeconds = 3000;
/** Items travel inside the run's input; Temporal refuses payloads above 2 MB. */
const maxItemBytes = 1_500_000;

const ciDir = (dataDir: string) => path.join(dataDir, 'ci-merge');

/** Without --command every repository needs a build command of its own: say which do not have one. */
async function checkBuildConfigs(listing: CommitListing): Promise<void> {
  const missing: string[] = [];
  for (const r of listing.repositories) {
    if (r.commits > 0 && !(await gitAnswers(r.root, ['cat-file', '-e', `HEAD:${buildConfigFile}`])))
      missing.push(r.remote ?? r.root);
  }
  if (missing.length > 0) {
    throw new Error(
      `No ${buildConfigFile} file at HEAD in ${missing.join(', ')}: commit one holding the build command (e.g. \`npm test\`), or pass --command "npm test" to build every commit with that.`,
    );
  }
}

/** Lists the new commits, runs the pipeline on them with a progress bar, and returns the summary lines. */
export async function runCiMerge(ctx: FlowContext, options: CiMergeOptions): Promise<string[]> {
  const buildsDir = path.join(ciDir(ctx.dataDir), 'builds');
  const cursorDir = path.join(ciDir(ctx.dataDir), 'cursors');
  // The command travels as its ID: the workers run only commands the operator registered here.
  const commandId =
    options.command === undefined ? undefined : await registerCommand(ciDir(ctx.dataDir), options.command);
  const listing = await listNewCommits(options.repos, {
    cursorDir,
    all: options.all,
    commandId,
    ciDir: ciDir(ctx.dataDir),
  });
  if (listing.items.length === 0) {
    await saveCursors(listing, cursorDir);
    const names = listing.repositories.map((r) => r.name).join(', ');
    return [`No new commits in ${names} since the last run: nothing to build (--all lists every commit again).`];
  }
  if (options.command === undefined) await checkBuildConfigs(listing);
  // The person at the command line is the operator: the repositories they name may be built.
  // (Grants are this host's: builders elsewhere build only what their BATCH_CI_REPOSITORIES lists.)
  for (const r of listing.repositories) await grantRepository(ciDir(ctx.dataDir), r.remote ?? r.root);
  const items: PipelineItem[] = listing.items.map((item) => {
    const data: CommitToBuild = { ...(item.data as unknown as CommitData), timeoutSeconds: options.timeoutSeconds };
    return { ...item, data: { ...data } };
  });
  const bytes = Buffer.byteLength(JSON.stringify(items));
  if (bytes > maxItemBytes) {
    const counts = listing.repositories.map((r) => `${r.name} ${r.commits}`).join(', ');
    throw new Error(
      `${items.length} new commits (${counts}) are too many for one run (${(bytes / 1e6).toFixed(1)} MB of item data; Temporal takes 2 MB): run on fewer repositories at a time.`,
    );
  }

  const spec = loadPipelineSpecFile(specFile);
  const handle = await startPipelineRun(ctx.client, ctx.config, spec, { items }, { runName: options.runName });
  const webUi = workflowUrl(ctx.config, handle.workflowId);
  ctx.log(
    `Started ${handle.workflowId}: ${plural(items.length, 'commit')} from ${plural(listing.repositories.length, 'repository', 'repositories')}. Web UI: ${webUi}`,
  );
  const result = await watchPipelineRun(handle, ctx.log, { show: ctx.progress });
  // Only now: a run that did not finish leaves its commits to be listed again.
  await saveCursors(listing, cursorDir);

  // Records are in the object store (on the local backend: under this data folder).
  const store = buildStoreFor(ctx.dataDir);
  const records = new Map<string, BuildRecord | undefined>();
  for (const item of listing.items) {
    records.set(item.id, await readBuildRecord(store.uriOf(buildKeys(item.id, commandId).record), store));
  }
  return formatCiMergeSummary({
    runName: options.runName,
    workflowId: handle.workflowId,
    listing,
    records,
    result,
    buildsDir: store.kind === 'local' ? buildsDir : store.uriOf('ci-merge/builds'),
    webUi,
  });
}

export const ciMergeFlow = defineFlow({
  name: 'ci-merge',
  description:
    'new commits of several git repositories merged into one build-and-test pipeline: each built once in a temporary worktree, passed/failed and log per commit, fair across repositories',
  declare: (command) =>
    command
      .argument('<repos...>', 'the folders of local git repositories, or their URLs (file://, https://, ssh)')
      .option('--command <cmd>', "build command for every commit (default: each commit's .batch-ci file)")
      .option('--all', 'every commit, not only those since the last finished run (recorded results are reused)')
      .option(
        '--timeout <seconds>',
        `a build's time limit, 1 to ${maxTimeoutSeconds}`,
        wholeNumber(1, maxTimeoutSeconds),
        defaultTimeoutSeconds,
      )
      .addOption(runNameOption('ci', 'run name; workflow ID ci-merge/<name>')),
  options: (parsed): CiMergeOptions => {
    const opts = parsed.opts<{ command?: string; all?: boolean; timeout: number; run?: string }>();
    return {
      repos: parsed.processedArgs[0] as string[],
      command: opts.command,
      all: opts.all === true,
      timeoutSeconds: opts.timeout,
      runName: runNameOf(opts, 'ci'),
    };
  },
  async start(options, ctx) {
    for (const line of await runCiMerge(ctx, options)) ctx.log(line);
  },
  async demo(ctx, runName) {
    const dir = path.join(ciDir(ctx.dataDir), 'demo', runName);
    // The same run name again reuses its repositories: new ones would be new commits.
    const repos = fs.existsSync(dir)
      ? ['alpha', 'beta', 'gamma'].map((name) => path.join(dir, name))
      : await createDemoRepositories(dir);
    ctx.log(
      `Demo repositories in ${displayPath(dir)}: alpha, beta (one commit fails its test), gamma (a clone of alpha)`,
    );
    return runCiMerge(ctx, { repos, all: true, timeoutSeconds: 60, runName });
  },
});
