/**
 * Probes whether the CLI dev server (Temporal Server 1.29.1) honours task queue priority keys and fairness keys
 * when it dispatches a backlog, under which dynamic config, and how to read a task queue's backlog from the SDK.
 *
 * For each server configuration below it starts a fresh dev server (ports 17xxx), builds backlogs while nothing
 * polls the queue, reads the backlog stats, then starts ONE worker that runs ONE task at a time and records the
 * order in which the tasks run. Findings are written up in docs/priority-and-fairness.md.
 *
 * Usage: node --require tsx/cjs scripts/probe-priority-fairness.ts [--only=<configuration name> | --restarts-only]
 * (--only skips the restart experiments; --restarts-only runs only them.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Priority } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type InjectedSinks } from '@temporalio/worker';
import { portOpen, freePort, sleep, waitFor } from '../src/infra/wait';
import type { ProbeBatch, ProbeSinks } from './probe-priority-fairness.workflows';
import { quietLogger } from '../src/workers/workflow-bundle';

const temporalCli = '/work/main/.tools/bin/temporal';
const namespace = 'default';

// Numeric values of the proto enums (temporal.api.enums.v1), so that the script needs only the declared packages.
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;
const DESCRIBE_TASK_QUEUE_MODE_ENHANCED = 1;

interface ServerConfig {
  name: string;
  /** Values for `temporal server start-dev --dynamic-config-value KEY=JSON_VALUE`. */
  dynamicConfig: string[];
}

const onePartition = ['matching.numTaskqueueReadPartitions=1', 'matching.numTaskqueueWritePartitions=1'];
const configs: ServerConfig[] = [
  { name: 'defaults', dynamicConfig: [] },
  { name: 'partitions=1', dynamicConfig: onePartition },
  { name: 'useNewMatcher', dynamicConfig: ['matching.useNewMatcher=true'] },
  { name: 'useNewMatcher+partitions=1', dynamicConfig: ['matching.useNewMatcher=true', ...onePartition] },
  { name: 'enableFairness', dynamicConfig: ['matching.enableFairness=true'] },
  { name: 'enableFairness+partitions=1', dynamicConfig: ['matching.enableFairness=true', ...onePartition] },
];

/** What one experiment measured: task labels in execution order, and the backlog seen before the worker started. */
interface Measured {
  order: string[];
  backlogBefore: BacklogReading | undefined;
  note?: string;
}

interface BacklogReading {
  approximateBacklogCount: number;
  byPriorityKey: Record<string, number>;
}

/**
 * Restarts of a server that has a persisted backlog, with different dynamic config: `stages[0]` builds the backlog,
 * each later stage restarts the server on the same SQLite file with its config and runs workers for a while.
 */
interface RestartCase {
  name: string;
  stages: string[][];
}

interface RestartResult {
  restart: RestartCase;
  backlogBefore: number;
  /** Per later stage: task labels that ran during it. */
  ranPerStage: string[][];
  total: number;
  error?: string;
}

const fairness = ['matching.enableFairness=true'];
const newMatcher = ['matching.useNewMatcher=true'];
const restartCases: RestartCase[] = [
  { name: 'defaults -> defaults (control)', stages: [[], []] },
  { name: 'defaults -> enableFairness -> defaults', stages: [[], fairness, []] },
  { name: 'enableFairness -> defaults', stages: [fairness, []] },
  { name: 'defaults -> useNewMatcher', stages: [[], newMatcher] },
  { name: 'useNewMatcher -> defaults -> useNewMatcher', stages: [newMatcher, [], newMatcher] },
];

/**
 * Without these, the restarted server's history service replays its (not yet checkpointed) transfer tasks and
 * re-adds the activity tasks to matching, which would hide whether matching itself still reads the old backlog.
 */
const persistQueueAckLevels = [
  'history.transferProcessorUpdateAckInterval="1s"',
  'history.shardUpdateMinInterval="1s"',
];

interface RunResult {
  config: ServerConfig;
  activityPriority?: Measured;
  workflowPriority?: Measured;
  fairnessKeys?: Measured;
  fairnessWeights?: Measured;
  error?: string;
}

async function main(): Promise<void> {
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const restartsOnly = process.argv.includes('--restarts-only');
  const selected = restartsOnly ? [] : only ? configs.filter((c) => c.name === only) : configs;
  if (selected.length === 0 && !restartsOnly)
    throw new Error(`No configuration named ${only}; have: ${configs.map((c) => c.name)}`);

  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'probe-priority-fairness.workflows.ts'),
    logger: quietLogger,
  });

  const results: RunResult[] = [];
  for (const [index, config] of selected.entries()) {
    results.push(await runConfig(config, 17300 + index * 10, code));
  }
  const restarts: RestartResult[] = [];
  if (!only) {
    for (const [index, restart] of restartCases.entries()) {
      restarts.push(await restartExperiment(restart, 17400 + index * 10, code));
    }
  }
  printVerdicts(results, restarts);
}

async function runConfig(config: ServerConfig, preferredPort: number, code: string): Promise<RunResult> {
  const env = await startServer(preferredPort, config.dynamicConfig, (command) =>
    console.log(`\n=== ${config.name}: ${command}`.trimEnd()),
  );
  const result: RunResult = { config };
  try {
    const tag = config.name.replace(/[^a-zA-Z0-9]+/g, '-');

    // Q1a: 30 activity tasks at priority key 5, then 10 at priority key 1.
    result.activityPriority = await activityExperiment(env, code, `${tag}-prio`, [
      { label: 'p5', count: 30, priority: { priorityKey: 5 } },
      { label: 'p1', count: 10, priority: { priorityKey: 1 } },
    ]);
    report('activity priority (30 x key 5, then 10 x key 1)', result.activityPriority, { p5: '5', p1: '1' });

    // Q1b: the same with workflow tasks: 30 workflows started with priority key 5, then 10 with key 1.
    result.workflowPriority = await workflowExperiment(env, code, `${tag}-wfprio`);
    report('workflow priority (30 x key 5, then 10 x key 1)', result.workflowPriority, { p5: '5', p1: '1' });

    // Q2a: 40 tasks with fairness key 'busy', then 5 with 'quiet' (same, default, priority).
    result.fairnessKeys = await activityExperiment(env, code, `${tag}-fair`, [
      { label: 'busy', count: 40, priority: { fairnessKey: 'busy' } },
      { label: 'quiet', count: 5, priority: { fairnessKey: 'quiet' } },
    ]);
    report("fairness keys (40 x 'busy', then 5 x 'quiet')", result.fairnessKeys, { busy: 'b', quiet: 'Q' });

    // Q2b: fairness weights: 20 tasks of key 'w1' (weight 1), then 20 of key 'w3' (weight 3).
    result.fairnessWeights = await activityExperiment(env, code, `${tag}-weight`, [
      { label: 'w1', count: 20, priority: { fairnessKey: 'w1', fairnessWeight: 1 } },
      { label: 'w3', count: 20, priority: { fairnessKey: 'w3', fairnessWeight: 3 } },
    ]);
    report("fairness weights (20 x 'w1' weight 1, then 20 x 'w3' weight 3)", result.fairnessWeights, {
      w1: '1',
      w3: '3',
    });
  } catch (err) {
    result.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.log(`  FAILED: ${result.error}`);
  } finally {
    await env.teardown();
  }
  return result;
}

/**
 * Runs a workflow (on its own queue, with a worker) that schedules `batches` on `${name}-acts`, where nothing polls;
 * waits until every task is in the backlog; then starts one activity worker with one slot and records the order.
 */
async function activityExperiment(
  env: TestWorkflowEnvironment,
  code: string,
  name: string,
  batches: ProbeBatch[],
): Promise<Measured> {
  const activityQueue = `${name}-acts`;
  const order: string[] = [];
  const priorities = new Map<string, Priority | undefined>();
  const workflowWorker = await workflowsWorker(env, `${name}-wf`, code);
  return workflowWorker.runUntil(async () => {
    const { handle, backlog: backlogBefore } = await enqueueBacklog(env.client, name, batches);
    if (name.endsWith('-prio')) await printBacklogApis(env.client, activityQueue);

    const activityWorker = await oneTaskWorker(env, activityQueue, async (label) => {
      order.push(label);
      const cls = label.replace(/-\d+$/, '');
      if (!priorities.has(cls)) priorities.set(cls, Context.current().info.priority);
      await sleep(10);
    });
    await activityWorker.runUntil(handle.result());
    const seen = [...priorities].map(([cls, p]) => `${cls}=${JSON.stringify(p)}`).join(' ');
    return { order, backlogBefore, note: `activity Info.priority: ${seen}` };
  });
}

/**
 * With a SQLite file: the first server gets a backlog of 12 activity tasks (4 at priority key 1, 4 at key 5, 4
 * without a priority) and stops; each later stage restarts the server on the same file with its own config and runs
 * the workers until the workflow completes or 15 s pass. Records which tasks ran in which stage.
 */
async function restartExperiment(restart: RestartCase, preferredPort: number, code: string): Promise<RestartResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-priority-'));
  const dbFilename = path.join(dir, 'temporal.db');
  const name = restart.name.replace(/[^a-zA-Z0-9]+/g, '-');
  const workflowQueue = `${name}-wf`;
  const activityQueue = `${name}-acts`;
  const workflowId = `${name}-enqueue`;
  const batches: ProbeBatch[] = [
    { label: 'p1', count: 4, priority: { priorityKey: 1 } },
    { label: 'p5', count: 4, priority: { priorityKey: 5 } },
    { label: 'unset', count: 4, priority: {} },
  ];
  const symbols = { p1: '1', p5: '5', unset: 'u' };
  const total = 12;
  const result: RestartResult = { restart, backlogBefore: 0, ranPerStage: [], total };
  const start = (dynamicConfig: string[]) =>
    startServer(preferredPort, [...dynamicConfig, ...persistQueueAckLevels], () => undefined, dbFilename);
  console.log(`\n=== restart with a persisted backlog: ${restart.name}`);
  try {
    const first = await start(restart.stages[0]);
    try {
      const worker = await workflowsWorker(first, workflowQueue, code);
      await worker.runUntil(async () => {
        const { backlog } = await enqueueBacklog(first.client, name, batches);
        result.backlogBefore = backlog?.approximateBacklogCount ?? 0;
      });
      // Let history checkpoint its transfer queue, so that the restart does not re-send the activity tasks.
      await sleep(6000);
    } finally {
      await first.teardown();
    }

    for (const [index, dynamicConfig] of restart.stages.slice(1).entries()) {
      const env = await start(dynamicConfig);
      try {
        const ran: string[] = [];
        const workflowWorker = await workflowsWorker(env, workflowQueue, code);
        const activityWorker = await oneTaskWorker(env, activityQueue, async (label) => {
          ran.push(label);
        });
        // Poll (no long-poll left open when the server is torn down) until the workflow completes or 15 s pass.
        const handle = env.client.workflow.getHandle(workflowId);
        const completed = async () => (await handle.describe()).status.name === 'COMPLETED';
        const finished = await workflowWorker.runUntil(
          activityWorker.runUntil(
            waitFor('the workflow', completed, 15_000, 500).then(
              () => true,
              () => false,
            ),
          ),
        );
        result.ranPerStage.push(ran);
        const after = await readBacklog(env.client, activityQueue, TASK_QUEUE_TYPE_ACTIVITY);
        console.log(
          `  stage ${index + 2} [${dynamicConfig.join(' ') || 'defaults'}]: ${ran.length}/${total} ran ` +
            `(${sequence(ran, symbols) || '-'}); workflow ${finished ? 'completed' : 'not completed within 15 s'}; ` +
            `reported backlog now ${after.approximateBacklogCount}`,
        );
        if (finished) break;
      } finally {
        await env.teardown();
      }
    }
  } catch (err) {
    result.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.log(`  FAILED: ${result.error}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

/**
 * A dev server for one configuration on `preferredPort` (a free port when it is taken), with the
 * dynamic config values; `dbFilename` keeps its state in a SQLite file across restarts.
 */
async function startServer(
  preferredPort: number,
  dynamicConfig: string[],
  announce: (command: string) => void,
  dbFilename?: string,
): Promise<TestWorkflowEnvironment> {
  const port = (await portOpen(preferredPort)) ? await freePort() : preferredPort;
  const extraArgs = dynamicConfig.flatMap((kv) => ['--dynamic-config-value', kv]);
  announce(`temporal server start-dev --port ${port} ${extraArgs.join(' ')}`);
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCli }, port, namespace, dbFilename, extraArgs },
  });
}

/** A worker for the probe workflows on `taskQueue`. */
function workflowsWorker(env: TestWorkflowEnvironment, taskQueue: string, code: string): Promise<Worker> {
  return Worker.create({ connection: env.nativeConnection, namespace, taskQueue, workflowBundle: { code } });
}

/** A worker on `taskQueue` that runs one `probeTask` at a time (so the order it gets tasks in shows). */
function oneTaskWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  probeTask: (label: string) => Promise<void>,
): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace,
    taskQueue,
    activities: { probeTask },
    maxConcurrentActivityTaskExecutions: 1,
    maxConcurrentActivityTaskPolls: 1,
  });
}

/**
 * Starts `${name}-enqueue` on `${name}-wf` (a workflows worker must poll it), which schedules
 * `batches` on `${name}-acts`, where nothing polls; waits until every task is scheduled and in the
 * backlog.
 */
async function enqueueBacklog(client: Client, name: string, batches: ProbeBatch[]) {
  const total = batches.reduce((n, b) => n + b.count, 0);
  const handle = await client.workflow.start('enqueueActivityBatches', {
    taskQueue: `${name}-wf`,
    workflowId: `${name}-enqueue`,
    args: [`${name}-acts`, batches],
  });
  await waitFor(
    `${total} scheduled activities`,
    async () => ((await handle.describe()).raw.pendingActivities?.length ?? 0) >= total,
    60_000,
  );
  const backlog = await waitForBacklog(client, `${name}-acts`, TASK_QUEUE_TYPE_ACTIVITY, total);
  return { handle, backlog };
}

/** Starts 30 workflows at priority key 5 then 10 at key 1 with no worker; then one worker runs one task at a time. */
async function workflowExperiment(env: TestWorkflowEnvironment, code: string, name: string): Promise<Measured> {
  const taskQueue = `${name}-wfs`;
  const handles = [];
  for (const [label, count, priorityKey] of [
    ['p5', 30, 5],
    ['p1', 10, 1],
  ] as const) {
    for (let i = 1; i <= count; i++) {
      handles.push(
        await env.client.workflow.start('workflowTaskProbe', {
          taskQueue,
          workflowId: `${name}-${label}-${i}`,
          args: [`${label}-${i}`],
          priority: { priorityKey },
        }),
      );
    }
    await sleep(1000);
  }
  const backlogBefore = await waitForBacklog(env.client, taskQueue, TASK_QUEUE_TYPE_WORKFLOW, handles.length);
  const order: string[] = [];
  const priorities = new Map<string, number | undefined>();
  const sinks: InjectedSinks<ProbeSinks> = {
    probe: {
      workflowTaskRan: {
        fn: (_info, label, priorityKey) => {
          order.push(label);
          priorities.set(label.replace(/-\d+$/, ''), priorityKey);
        },
        callDuringReplay: false,
      },
    },
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace,
    taskQueue,
    workflowBundle: { code },
    sinks,
    maxCachedWorkflows: 0,
    maxConcurrentWorkflowTaskExecutions: 1,
    maxConcurrentWorkflowTaskPolls: 1,
  });
  await worker.runUntil(Promise.all(handles.map((h) => h.result())));
  const seen = [...priorities].map(([cls, p]) => `${cls}=${p}`).join(' ');
  return { order, backlogBefore, note: `workflowInfo().priority.priorityKey: ${seen}` };
}

/** The call answering Q3: a task queue's approximate backlog (all partitions) plus its breakdown by priority key. */
async function readBacklog(client: Client, taskQueue: string, taskQueueType: number): Promise<BacklogReading> {
  const response = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
    taskQueueType,
    reportStats: true,
  });
  const byPriorityKey: Record<string, number> = {};
  for (const [key, stats] of Object.entries(response.statsByPriorityKey ?? {})) {
    byPriorityKey[key] = toNumber(stats.approximateBacklogCount);
  }
  return { approximateBacklogCount: toNumber(response.stats?.approximateBacklogCount), byPriorityKey };
}

/** Polls the backlog until it reaches `expected` (or 15 s pass), printing how it grew. */
async function waitForBacklog(
  client: Client,
  taskQueue: string,
  taskQueueType: number,
  expected: number,
): Promise<BacklogReading | undefined> {
  const started = Date.now();
  let last: BacklogReading | undefined;
  const readings: string[] = [];
  while (Date.now() - started < 15_000) {
    last = await readBacklog(client, taskQueue, taskQueueType);
    readings.push(`${((Date.now() - started) / 1000).toFixed(1)}s:${last.approximateBacklogCount}`);
    if (last.approximateBacklogCount >= expected) break;
    await sleep(500);
  }
  const shortened = readings.length > 8 ? [...readings.slice(0, 4), '…', ...readings.slice(-3)] : readings;
  console.log(`  backlog of ${taskQueue} before the worker: ${shortened.join(' ')} (expected ${expected})`);
  return last;
}

/** Shows what each DescribeTaskQueue flavour returns for an activity queue's backlog (Q3). */
async function printBacklogApis(client: Client, taskQueue: string): Promise<void> {
  const show = (what: string, value: unknown) => console.log(`  ${what}: ${JSON.stringify(value, longReplacer)}`);
  /** DescribeTaskQueue of this queue with the flavour's fields. */
  const describe = (flavour: {
    taskQueueType?: number;
    includeTaskQueueStatus?: boolean;
    apiMode?: number;
    taskQueueTypes?: number[];
    reportStats?: boolean;
  }) =>
    client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
      ...flavour,
    });

  const plain = await describe({ taskQueueType: TASK_QUEUE_TYPE_ACTIVITY, reportStats: true });
  show('describeTaskQueue {reportStats} .stats', plain.stats);
  show('describeTaskQueue {reportStats} .statsByPriorityKey', plain.statsByPriorityKey);

  const legacy = await describe({ taskQueueType: TASK_QUEUE_TYPE_ACTIVITY, includeTaskQueueStatus: true });
  show('describeTaskQueue {includeTaskQueueStatus} .taskQueueStatus', legacy.taskQueueStatus);

  try {
    const enhanced = await describe({
      apiMode: DESCRIBE_TASK_QUEUE_MODE_ENHANCED,
      taskQueueTypes: [TASK_QUEUE_TYPE_ACTIVITY],
      reportStats: true,
    });
    const typesInfo = Object.values(enhanced.versionsInfo ?? {}).map((v) => v.typesInfo);
    show('describeTaskQueue {apiMode: ENHANCED, reportStats} .versionsInfo[*].typesInfo', typesInfo);
  } catch (err) {
    show('describeTaskQueue {apiMode: ENHANCED} failed', err instanceof Error ? err.message : String(err));
  }
}

function report(title: string, measured: Measured, symbols: Record<string, string>): void {
  console.log(`  ${title}:`);
  console.log(`    order: ${sequence(measured.order, symbols)}`);
  if (measured.backlogBefore) {
    console.log(`    backlog before worker: ${JSON.stringify(measured.backlogBefore)}`);
  }
  if (measured.note) console.log(`    ${measured.note}`);
}

/** One character per executed task, in execution order. */
function sequence(order: string[], symbols: Record<string, string>): string {
  return order.map((label) => symbols[label.replace(/-\d+$/, '')] ?? '?').join('');
}

/** 1-based execution positions of the tasks of one class. */
function positions(order: string[], cls: string): number[] {
  return order.flatMap((label, i) => (label.replace(/-\d+$/, '') === cls ? [i + 1] : []));
}

function printVerdicts(results: RunResult[], restarts: RestartResult[]): void {
  if (results.length > 0) printOrderVerdicts(results);
  if (restarts.length > 0) {
    console.log('\n=== Restarts on a persisted backlog (1 = key 1, 5 = key 5, u = no priority; 12 tasks)');
    for (const r of restarts) {
      const symbols = { p1: '1', p5: '5', unset: 'u' };
      const stages = r.error
        ? 'error'
        : r.ranPerStage.map(
            (ran, i) => `stage ${i + 2}: ${ran.length}/${r.total} ran (${sequence(ran, symbols) || '-'})`,
          );
      console.log(
        `${r.restart.name.padEnd(44)} backlog ${r.backlogBefore}; ${stages.toString().replace(/,stage/g, ', stage')}`,
      );
    }
  }
}

function printOrderVerdicts(results: RunResult[]): void {
  console.log('\n=== Summary (positions are 1-based execution order)');
  const rows: string[][] = [['config', 'act p1 positions', 'wf p1 positions', "'quiet' positions", "'w3' in first 20"]];
  for (const r of results) {
    if (r.error) {
      rows.push([r.config.name, 'error', '', '', '']);
      continue;
    }
    rows.push([
      r.config.name,
      r.activityPriority ? compact(positions(r.activityPriority.order, 'p1')) : '-',
      r.workflowPriority ? compact(positions(r.workflowPriority.order, 'p1')) : '-',
      r.fairnessKeys ? compact(positions(r.fairnessKeys.order, 'quiet')) : '-',
      r.fairnessWeights ? `${positions(r.fairnessWeights.order.slice(0, 20), 'w3').length}/20` : '-',
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) console.log('  ' + row.map((cell, c) => cell.padEnd(widths[c])).join(' | '));

  console.log('\n=== Verdicts per configuration');
  for (const r of results) {
    if (r.error) continue;
    console.log(`${r.config.name}:`);
    console.log(`  Q1 activity priority: ${priorityVerdict(r.activityPriority)}`);
    console.log(`  Q1 workflow priority: ${priorityVerdict(r.workflowPriority)}`);
    console.log(`  Q2 fairness keys:     ${fairnessVerdict(r.fairnessKeys)}`);
    console.log(`  Q2 fairness weights:  ${weightsVerdict(r.fairnessWeights)}`);
  }
  const backlogOk = results.filter(
    (r) => !r.error && (r.activityPriority?.backlogBefore?.approximateBacklogCount ?? 0) >= 40,
  );
  console.log(
    `Q3 describeTaskQueue({reportStats: true}).stats.approximateBacklogCount reached the full activity backlog (40) ` +
      `under: ${backlogOk.map((r) => r.config.name).join(', ') || 'none'}`,
  );
}

/** FIFO would run the 10 key-1 tasks at positions 31-40; perfect priority at 1-10. */
function priorityVerdict(m: Measured | undefined): string {
  if (!m) return 'not measured';
  const p1 = positions(m.order, 'p1');
  const mean = p1.reduce((a, b) => a + b, 0) / p1.length;
  const detail = `(key-1 tasks at ${compact(p1)}; mean position ${mean.toFixed(1)}; FIFO 35.5, strict 5.5)`;
  if (compact(p1) === '1-10') return `HONOURED strictly ${detail}`;
  if (mean <= 15) return `HONOURED approximately ${detail}`;
  if (compact(p1) === '31-40') return `not honoured: FIFO ${detail}`;
  return `not honoured ${detail}`;
}

/** FIFO would run the 5 'quiet' tasks at positions 41-45; fair (equal weights) at about 2,4,6,8,10. */
function fairnessVerdict(m: Measured | undefined): string {
  if (!m) return 'not measured';
  const quiet = positions(m.order, 'quiet');
  const detail = `('quiet' tasks at ${compact(quiet)}; FIFO 41-45, fair ~2,4,6,8,10)`;
  if (Math.max(...quiet) <= 12) return `HONOURED ${detail}`;
  if (compact(quiet) === '41-45') return `not honoured: FIFO ${detail}`;
  if (Math.min(...quiet) <= 10 && quiet.filter((q) => q <= 20).length >= 3) return `partly ${detail}`;
  return `not honoured ${detail}`;
}

/** FIFO would run no 'w3' task among the first 20; a 3:1 weighting about 15. */
function weightsVerdict(m: Measured | undefined): string {
  if (!m) return 'not measured';
  const w3 = positions(m.order.slice(0, 20), 'w3').length;
  const detail = `(${w3} of the first 20 tasks were 'w3'; FIFO 0, 3:1 weighting ~15)`;
  if (w3 >= 13) return `HONOURED ${detail}`;
  if (w3 === 0) return `not honoured: FIFO ${detail}`;
  if (w3 >= 8) return `partly ${detail}`;
  return `not honoured ${detail}`;
}

/** "1,2,3,5" -> "1-3,5". */
function compact(values: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++;
    parts.push(j > i ? `${values[i]}-${values[j]}` : String(values[i]));
    i = j + 1;
  }
  return parts.join(',') || '(none)';
}

/** Protobuf int64 fields arrive as Long objects (or numbers); absent means 0. */
function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'object' && 'toNumber' in value && typeof value.toNumber === 'function') {
    return value.toNumber() as number;
  }
  return Number(value);
}

function longReplacer(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && 'low' in value && 'high' in value && 'unsigned' in value) {
    return toNumber(value);
  }
  return value;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
