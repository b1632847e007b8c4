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
import { repoRoot } from '../src/runtime/paths';
import { ensureTemporalCli } from '../src/runtime/tools/temporal-cli';
import type { PipelineItem, PipelineSpec } from '../src/pipelines/spec';
import { pipelineRun } from '../src/workflows/pipeline';
import { thumbnailer, ThumbnailerInput } from '../src/workflows/thumbnailer';
import { withPipelineWorkers } from '../test/support/pipeline-workers';
import { isolatedConfig } from '../test/support/config';
import { items, standIns } from '../test/support/stand-ins';
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
    spec: {
      name: 'run-join',
      start: 'work',
      partitionSize: 2,
      stages: {
        work: { kind: 'activity', activity: 'sleep', next: 'barrier' },
        barrier: { kind: 'join', next: 'after' },
        after: { kind: 'activity', activity: 'annotate', batchSize: 5, next: 'done' },
        done: { kind: 'reduce', histogram: ['trail'] },
      },
    },
    items: Array.from({ length: 5 }, (_, i) => ({ id: `item-${i}`, data: { sleepMs: 100 * (i + 1) } })),
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
      const input: ThumbnailerInput = {
        items: items(3),
        outputDir: '/out',
        sizes: [{ width: 320, format: 'jpeg' }],
        concurrency: 2,
        queues: { video: config.queues.video, image: config.queues.image },
        retry: { initialInterval: '10 ms', maximumAttempts: 2 },
        ...scenario.input,
      };
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
    fs.writeFileSync(idsFile, JSON.stringify(workflowIds, null, 2) + '\n');
  } finally {
    await env.teardown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
