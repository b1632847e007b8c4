/**
 * Records workflow histories for the replay tests (test/replay.test.ts): runs each scenario on a
 * real dev server with stand-in activities and saves every execution's history as JSON under
 * test/histories/. Scenarios already recorded are kept: only new ones are recorded. Re-record an
 * old one (`--force <name>`) only on purpose — when a change is *meant* to be incompatible and
 * running workflows have been drained; the old files are what guard running workflows.
 *
 *   node --require tsx/cjs scripts/record-histories.ts [--force <scenario>]...
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { allSearchAttributes } from '../src/core/search-attributes';
import { repoRoot } from '../src/infra/paths';
import { ensureTemporalCli } from '../src/devstack/tools/temporal-cli';
import type { PipelineItem, PipelineSpec } from '../src/pipelines/spec';
import { pipelineRun } from '../src/workflows/pipeline';
import { thumbnailer, type ThumbnailerInput } from '../src/workflows/flows/thumbnailer';
import { createTranscodeActivities } from '../src/activities/transcode';
import { startSignup, verifySignup } from '../src/client/signup';
import { uploadFiles } from '../src/client/transcode';
import { transcode } from '../src/workflows/flows/transcode';
import { BlobStore } from '../src/storage/blob-store';
import { generateSampleVideos } from '../src/devstack/sample-videos';
import { collect, ListSource } from '../src/sources';
import { codeInVerificationMail } from '../src/core/signup-messages';
import { withPipelineWorkers } from '../test/support/pipeline-workers';
import { mailsTo, signupConfig, startTestMailCatcher, waitForSignup, withSignupWorkers } from '../test/support/signup';
import { isolatedConfig } from '../test/support/config';
import { runJoinSpec } from '../test/support/pipeline-specs';
import { items, standIns, thumbnailerInput } from '../test/support/stand-ins';
import { withWorkers } from '../test/support/workers';

const historiesDir = path.join(repoRoot, 'test', 'histories');
/** File → workflow ID: replay needs the original ID, since child workflow IDs derive from it. */
const idsFile = path.join(historiesDir, 'workflow-ids.json');
const workflowIds: Record<string, string> = fs.existsSync(idsFile) ? JSON.parse(fs.readFileSync(idsFile, 'utf8')) : {};
const forced = process.argv.flatMap((arg, i) => (process.argv[i - 1] === '--force' ? [arg] : []));

/** A scenario is recorded when it has no files yet, or when named with --force. */
function shouldRecord(scenario: string): boolean {
  const recorded = Object.keys(workflowIds).some((file) => file.replace(/(-\d+)?\.json$/, '') === scenario);
  if (recorded && !forced.includes(scenario)) {
    console.log(`kept ${scenario} (recorded before; --force ${scenario} re-records it)`);
    return false;
  }
  for (const file of Object.keys(workflowIds)) {
    if (file.replace(/(-\d+)?\.json$/, '') !== scenario) continue;
    fs.rmSync(path.join(historiesDir, file), { force: true });
    delete workflowIds[file];
  }
  return true;
}

interface Scenario {
  name: string;
  input: Partial<ThumbnailerInput>;
  acts: ReturnType<typeof standIns>;
}

const scenarios: Scenario[] = [
  { name: 'thumbnailer-ok', input: { items: items(4) }, acts: standIns() },
  {
    name: 'thumbnailer-bad-and-poison',
    input: { items: items(4) },
    acts: standIns((i) =>
      i.itemId === 'video-1'
        ? ApplicationFailure.nonRetryable('video-1.mp4 is not a readable video', 'InvalidInput')
        : i.itemId === 'video-2'
          ? new Error('disk full')
          : undefined,
    ),
  },
  { name: 'thumbnailer-continue-as-new', input: { items: items(5), itemsPerExecution: 2 }, acts: standIns() },
];

/** Images with sizes and tags, for the scenarios that sum, count and report them. */
const taggedImages = (n: number): PipelineItem[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `img-${i}`,
    data: { bytes: 100 * (i + 1), tags: i % 2 ? ['red', 'large'] : ['blue'] },
  }));

/** Pipeline runs whose histories (run, partitions, copy branches) guard the interpreter. */
const pipelineScenarios: { name: string; spec: PipelineSpec; items: PipelineItem[] }[] = [
  {
    name: 'pipeline-patterns',
    spec: {
      name: 'patterns',
      start: 'copy',
      partitionSize: 4,
      stages: {
        copy: { kind: 'copy', to: ['opted-in', 'audit'] },
        audit: { kind: 'activity', activity: 'annotate', batchSize: 3, next: 'audited' },
        audited: { kind: 'reduce' },
        'opted-in': { kind: 'filter', where: { field: 'optIn', op: 'eq', value: true }, next: 'route' },
        route: {
          kind: 'split',
          routes: [{ when: { field: 'channel', op: 'eq', value: 'sms' }, to: 'sms' }],
          default: 'email',
        },
        sms: { kind: 'shard', key: '$id', shards: 2, activity: 'annotate', queue: 'record-shards', next: 'sent' },
        email: {
          kind: 'activity',
          activity: 'fail-when',
          retry: { initialInterval: '10 ms', maximumAttempts: 2 },
          next: 'sent',
        },
        sent: { kind: 'reduce', histogram: ['channel'] },
      },
    },
    items: Array.from({ length: 6 }, (_, i) => ({
      id: `user-${i}`,
      data: { optIn: i !== 1, channel: i % 2 ? 'sms' : 'email', ...(i === 4 ? { fail: 'always' } : {}) },
    })),
  },
  {
    name: 'pipeline-join-race',
    spec: {
      name: 'join-race',
      start: 'work',
      stages: {
        work: { kind: 'activity', activity: 'noop', batchSize: 2, next: 'barrier' },
        barrier: { kind: 'join', next: 'race' },
        race: { kind: 'copy', to: ['slow', 'fast'], mode: 'race' },
        slow: { kind: 'activity', activity: 'sleep', next: 'done' },
        fast: { kind: 'activity', activity: 'noop', next: 'done' },
        done: { kind: 'reduce', sum: ['sleepMs'] },
      },
    },
    items: Array.from({ length: 3 }, (_, i) => ({ id: `item-${i}`, data: { sleepMs: 5000 } })),
  },
  {
    name: 'pipeline-run-join',
    spec: runJoinSpec(2, 5),
    items: Array.from({ length: 5 }, (_, i) => ({ id: `item-${i}`, data: { sleepMs: 100 * (i + 1) } })),
  },
  {
    name: 'pipeline-report',
    spec: {
      name: 'report',
      start: 'tag',
      stages: {
        tag: { kind: 'activity', activity: 'annotate', batchSize: 2, next: 'all-tagged' },
        'all-tagged': { kind: 'join', next: 'fan-out' },
        'fan-out': { kind: 'copy', to: ['summary', 'chosen'] },
        summary: { kind: 'reduce', sum: ['bytes'], histogram: ['tags'], report: { activity: 'histogram-report' } },
        chosen: { kind: 'filter', where: { field: 'tags', op: 'has', value: 'red' }, next: 'thumb' },
        thumb: { kind: 'activity', activity: 'noop' },
      },
    },
    items: taggedImages(4),
  },
  {
    // The run's close with results and a report scheduled together (patch marker parallel-run-close).
    name: 'pipeline-parallel-close',
    spec: {
      name: 'parallel-close',
      start: 'tag',
      stages: {
        tag: { kind: 'activity', activity: 'annotate', batchSize: 2, next: 'summary' },
        summary: { kind: 'reduce', sum: ['bytes'], histogram: ['tags'], report: { activity: 'histogram-report' } },
      },
    },
    items: taggedImages(4),
  },
  {
    // A partition with the one marker for all its patches (pipeline-partition-2): items a stage leaves
    // unchanged answered without their data, results in chunks of 128 KiB.
    name: 'pipeline-partition-2',
    spec: {
      name: 'keeps-unchanged',
      start: 'pass',
      stages: {
        pass: { kind: 'activity', activity: 'noop', batchSize: 3, next: 'mark' },
        mark: { kind: 'activity', activity: 'annotate', batchSize: 3, next: 'done' },
        done: { kind: 'reduce', histogram: ['trail'] },
      },
    },
    items: Array.from({ length: 5 }, (_, i) => ({ id: `item-${i}`, data: { n: i } })),
  },
  {
    // Round robin over origins and shards with the rotation advanced per batch taken (patch marker).
    name: 'pipeline-round-robin',
    spec: {
      name: 'round-robin',
      start: 'work',
      concurrency: 1,
      stages: {
        work: { kind: 'activity', activity: 'annotate', batchSize: 2, next: 'spread' },
        spread: { kind: 'shard', key: '$id', shards: 2, activity: 'noop', queue: 'record-shards', next: 'done' },
        done: { kind: 'reduce', histogram: ['trail'] },
      },
    },
    items: Array.from({ length: 8 }, (_, i) => ({ id: `item-${i}`, origin: i < 6 ? 'busy' : 'quiet', data: {} })),
  },
];

async function recordAll(env: TestWorkflowEnvironment, prefix: string, scenario: string): Promise<void> {
  // Every execution under this prefix (run, continue-as-new runs, children), oldest first.
  const runs = [];
  for await (const execution of env.client.workflow.list({ query: `WorkflowId STARTS_WITH '${prefix}'` }))
    runs.push(execution);
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime() || a.workflowId.localeCompare(b.workflowId));
  for (const [index, run] of runs.entries()) {
    const history = await env.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const file = path.join(historiesDir, `${scenario}${runs.length > 1 ? `-${index + 1}` : ''}.json`);
    fs.writeFileSync(file, historyToJSON(history) + '\n');
    workflowIds[path.basename(file)] = run.workflowId;
    console.log(`recorded ${path.relative(repoRoot, file)} (${run.workflowId}, ${history.events?.length} events)`);
  }
}

/** Runs `body` with a fresh folder under test-output/record-histories/<name>. */
function scratch(name: string): string {
  const dir = path.join(repoRoot, 'test-output', 'record-histories', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** The hands-on flows with their real activities: transcode (ffmpeg) and sign-up (SMTP to a mail catcher). */
async function recordFlows(env: TestWorkflowEnvironment): Promise<void> {
  if (shouldRecord('transcode-run')) {
    const dir = scratch('transcode');
    const [video] = await generateSampleVideos(dir, () => undefined, [
      { source: 'testsrc2', width: 320, height: 180, seconds: 1, fps: 5 },
    ]);
    const corrupt = path.join(dir, 'corrupt.mp4');
    fs.writeFileSync(corrupt, 'not a video\n');
    const store = new BlobStore(path.join(dir, 'blobs'));
    const config = isolatedConfig(env.address);
    const uploads = await uploadFiles(store, await collect(new ListSource([video, corrupt])));
    const activities = createTranscodeActivities(store);
    await withWorkers(env, config, { video: activities, image: activities }, async () => {
      // The first flow's workflow type, kept registered for these histories (new runs are transcode pipeline runs).
      const handle = await env.client.workflow.start(transcode, {
        workflowId: 'transcode/record-transcode',
        taskQueue: config.queues.workflow,
        args: [
          {
            run: 'record-transcode',
            uploads,
            queues: { workflow: config.queues.workflow, video: config.queues.video },
          },
        ],
      });
      await handle.result();
    });
    await recordAll(env, 'transcode/record-transcode', 'transcode-run');
  }
  // `v2-…`: sign-ups since the patch signup-code-out-of-history (code made and checked by activities).
  for (const outcome of ['verified', 'expired', 'v2-verified', 'v2-locked'] as const) {
    const name = `signup-${outcome}`;
    if (!shouldRecord(name)) continue;
    const catcher = await startTestMailCatcher('record-histories');
    try {
      const base = signupConfig(env.address, catcher, 2);
      const config = {
        ...base,
        signup: { ...base.signup, verifyWithin: outcome === 'expired' ? '2 seconds' : '1 day' },
      };
      const userId = `record-${outcome}`;
      const event = { userId, email: `${userId}@example.com`, name: 'Rec', optIn: true, preference: 'email' as const };
      await withSignupWorkers(env, config, scratch(name), async () => {
        const { handle } = await startSignup(env.client, config, event, 'record');
        if (outcome.endsWith('verified')) {
          await waitForSignup(handle, (s) => s.state === 'waiting', `${userId} to wait for its code`);
          const [mail] = await mailsTo(catcher, event.email);
          await verifySignup(env.client, userId, codeInVerificationMail(mail.text)!);
        }
        if (outcome === 'v2-locked') {
          await waitForSignup(handle, (s) => s.state === 'waiting', `${userId} to wait for its code`);
          for (const wrong of ['wrong-1', 'wrong-2', 'wrong-3', 'wrong-4', 'wrong-5']) {
            await verifySignup(env.client, userId, wrong);
          }
        }
        await handle.result();
      });
      await recordAll(env, `signup/${userId}`, name);
    } finally {
      await catcher.stop();
    }
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const cli = await ensureTemporalCli(console.log);
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: cli }, searchAttributes: allSearchAttributes },
  });
  try {
    fs.mkdirSync(historiesDir, { recursive: true });
    for (const scenario of scenarios) {
      if (!shouldRecord(scenario.name)) continue;
      const config = isolatedConfig(env.address);
      const input = thumbnailerInput(config, {
        retry: { initialInterval: '10 ms', maximumAttempts: 2 },
        ...scenario.input,
      });
      const workflowId = `record/${scenario.name}`;
      await withWorkers(env, config, scenario.acts, () =>
        env.client.workflow.execute(thumbnailer, { taskQueue: config.queues.workflow, workflowId, args: [input] }),
      );
      await recordAll(env, workflowId, scenario.name);
    }
    for (const scenario of pipelineScenarios) {
      if (!shouldRecord(scenario.name)) continue;
      const config = isolatedConfig(env.address);
      const workflowId = `record/${scenario.name}`;
      const shardQueues = ['record-shards-shard-0', 'record-shards-shard-1'];
      await withPipelineWorkers(env, config, shardQueues, () =>
        env.client.workflow.execute(pipelineRun, {
          taskQueue: config.queues.workflow,
          workflowId,
          args: [
            {
              spec: scenario.spec,
              run: 'record',
              source: { items: scenario.items },
              queues: { workflow: config.queues.workflow, activity: config.queues.stages },
            },
          ],
        }),
      );
      await recordAll(env, workflowId, scenario.name);
    }
    await recordFlows(env);
    fs.writeFileSync(idsFile, JSON.stringify(workflowIds, null, 2) + '\n');
  } finally {
    await env.teardown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
