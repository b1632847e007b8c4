/**
 * Throughput benchmark of the pipeline interpreter against the naive one-child-workflow-per-item
 * design, on a real Temporal dev server (SQLite) with in-process workers. Not a test: it measures
 * and writes docs/benchmarks.md.
 *
 *   node --require tsx/cjs bench/pipeline-throughput.ts [--sizes 1000,10000,100000]
 *     [--naive-sizes 1000,10000] [--out docs/benchmarks.md | --out -]
 *     [--partition-size 1000] [--window 4] [--concurrency 8] [--batch-size 100] [--naive-window 100]
 *
 * Per size and design: wall time, items/s, history events of every execution of the run (found
 * through visibility with `WorkflowId STARTS_WITH`), events per item, the longest single history,
 * and the RSS of this (worker) process and of the server before, during and after.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection, WorkflowExecutionInfo } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import prettier from 'prettier';
import { stageActivities } from '../src/activities/pipeline';
import { ensureSearchAttributes } from '../src/client/search-attributes';
import type { PipelineSpec, Predicate } from '../src/pipelines/spec';
import { validatePipelineSpec } from '../src/pipelines/validate';
import { startDevServer } from '../src/runtime/dev-server';
import { repoRoot } from '../src/runtime/paths';
import type { ManagedProcess } from '../src/runtime/processes';
import { ensureTemporalCli, temporalCliVersion } from '../src/runtime/tools/temporal-cli';
import { freePort, sleep } from '../src/runtime/wait';
import { autoHeartbeat } from '../src/workers/auto-heartbeat';
import { workflowsEntry } from '../src/workers/workflow-bundle';
import { pipelineRun, PipelineRunResult } from '../src/workflows/pipeline';
import { naiveRun, NaiveRunResult } from './naive.workflows';

// ---------------------------------------------------------------------------------------------
// Options

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function numbers(value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  return value
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const n = Number(s.replace(/_/g, ''));
      if (!Number.isInteger(n) || n <= 0) throw new Error(`not a positive integer: ${s}`);
      return n;
    });
}

const sizes = numbers(arg('--sizes'), [1000, 10000, 100000]);
/** The naive design only runs at these sizes (default: every size up to 10k); see `naiveCap`. */
const naiveCap = 10_000;
const naiveSizes = numbers(
  arg('--naive-sizes'),
  sizes.filter((n) => n <= naiveCap),
);
const outArg = arg('--out') ?? 'docs/benchmarks.md';
const out = outArg === '-' ? undefined : path.resolve(repoRoot, outArg);
const partitionSize = numbers(arg('--partition-size'), [1000])[0];
const partitionWindow = numbers(arg('--window'), [4])[0];
const concurrency = numbers(arg('--concurrency'), [8])[0];
const batchSize = numbers(arg('--batch-size'), [100])[0];
const naiveWindow = numbers(arg('--naive-window'), [100])[0];
const naivePerRun = 1000;

const queues = { pipeline: 'bench-pipeline', naive: 'bench-naive', stages: 'bench-stages' };

/** Worker options, tuned for 2 cores (see docs/benchmarks.md); the same for both designs. */
const workflowWorkerOptions = {
  maxConcurrentWorkflowTaskExecutions: 64,
  maxCachedWorkflows: 2000,
  workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 8 },
} satisfies Partial<WorkerOptions>;
const activityWorkerOptions = {
  maxConcurrentActivityTaskExecutions: 200,
  activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 8 },
} satisfies Partial<WorkerOptions>;

// ---------------------------------------------------------------------------------------------
// The pipeline under test: copier → filter → splitter → merge, every activity a no-op.

/** Filter of both designs: keeps 90 % of the items (drops ids ending in 7). */
const keep: Predicate = { not: { field: '$id', op: 'matches', value: '7$' } };
const even: Predicate = { field: '$id', op: 'matches', value: '[02468]$' };

function branch(prefix: string): PipelineSpec['stages'] {
  return {
    [`${prefix}-filter`]: { kind: 'filter', where: keep, next: `${prefix}-split` },
    [`${prefix}-split`]: { kind: 'split', routes: [{ when: even, to: `${prefix}-even` }], default: `${prefix}-odd` },
    [`${prefix}-even`]: { kind: 'activity', activity: 'noop', batchSize, next: 'merge' },
    [`${prefix}-odd`]: { kind: 'activity', activity: 'noop', batchSize, next: 'merge' },
  };
}

const spec: PipelineSpec = validatePipelineSpec({
  name: 'bench-noop',
  start: 'copy',
  partitionSize,
  concurrency,
  stages: {
    copy: { kind: 'copy', to: ['a-filter', 'b-filter'] },
    ...branch('a'),
    ...branch('b'),
    merge: { kind: 'reduce' },
  },
} satisfies PipelineSpec);

const keptOf = (n: number) => n - Math.floor((n + 2) / 10); // ids 0..n-1 not ending in 7

// ---------------------------------------------------------------------------------------------
// Measuring

interface Sample {
  design: 'pipeline' | 'naive';
  items: number;
  seconds: number;
  itemsPerSecond: number;
  executions: number;
  events: number;
  eventsPerItem: number;
  maxEvents: number;
  maxEventsWorkflow: string;
  rss: { before: number; peak: number; after: number };
  serverRss: { before: number; peak: number; after: number };
  workerCpuSeconds: number;
  serverCpuSeconds: number;
  detail: string;
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

function procRss(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a process used so far, from /proc (Linux). */
function procCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

/**
 * Every execution whose workflow ID starts with `prefix` (each continue-as-new run counts), once
 * visibility has caught up: all closed, at least `atLeast` of them, the same count twice in a row.
 */
async function executions(client: Client, prefix: string, atLeast: number): Promise<WorkflowExecutionInfo[]> {
  const query = `WorkflowId STARTS_WITH "${prefix}"`;
  const deadline = Date.now() + 180_000;
  let previous = -1;
  for (;;) {
    const found: WorkflowExecutionInfo[] = [];
    for await (const info of client.workflow.list({ query, pageSize: 1000 })) found.push(info);
    const settled = found.length >= atLeast && found.every((e) => e.status.name !== 'RUNNING');
    if (settled && found.length === previous) return found;
    if (Date.now() > deadline) {
      throw new Error(`visibility did not settle for ${prefix}: ${found.length} executions, expected ≥ ${atLeast}`);
    }
    previous = settled ? found.length : -1;
    await sleep(1000);
  }
}

async function historyLength(client: Client, e: WorkflowExecutionInfo): Promise<number> {
  if (e.historyLength > 0) return e.historyLength;
  return (await client.workflow.getHandle(e.workflowId, e.runId).describe()).historyLength;
}

async function measure(
  client: Client,
  server: ManagedProcess,
  design: Sample['design'],
  items: number,
  prefix: string,
  minExecutions: number,
  run: () => Promise<string>,
): Promise<Sample> {
  const serverPid = server.child.pid;
  const rss = { before: process.memoryUsage().rss, peak: 0, after: 0 };
  const serverRss = { before: procRss(serverPid), peak: 0, after: 0 };
  rss.peak = rss.before;
  serverRss.peak = serverRss.before;
  const sampler = setInterval(() => {
    rss.peak = Math.max(rss.peak, process.memoryUsage().rss);
    serverRss.peak = Math.max(serverRss.peak, procRss(serverPid));
  }, 250);
  const cpu0 = process.cpuUsage();
  const serverCpu0 = procCpuSeconds(serverPid);
  const t0 = performance.now();
  let detail: string;
  try {
    detail = await run();
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const serverCpuSeconds = procCpuSeconds(serverPid) - serverCpu0;
  rss.after = process.memoryUsage().rss;
  serverRss.after = procRss(serverPid);
  rss.peak = Math.max(rss.peak, rss.after);
  serverRss.peak = Math.max(serverRss.peak, serverRss.after);

  const found = await executions(client, prefix, minExecutions);
  let events = 0;
  let maxEvents = 0;
  let maxEventsWorkflow = '';
  for (const e of found) {
    const length = await historyLength(client, e);
    events += length;
    if (length > maxEvents) {
      maxEvents = length;
      maxEventsWorkflow = e.workflowId;
    }
  }
  return {
    design,
    items,
    seconds,
    itemsPerSecond: items / seconds,
    executions: found.length,
    events,
    eventsPerItem: events / items,
    maxEvents,
    maxEventsWorkflow,
    rss,
    serverRss,
    workerCpuSeconds: (cpu.user + cpu.system) / 1e6,
    serverCpuSeconds,
    detail,
  };
}

// ---------------------------------------------------------------------------------------------
// The two designs

let runCounter = 0;

async function runPipeline(client: Client, server: ManagedProcess, stamp: string, n: number): Promise<Sample> {
  const prefix = `${stamp}/pipeline-${n}-${++runCounter}/`;
  const partitions = Math.ceil(n / partitionSize);
  return measure(client, server, 'pipeline', n, prefix, 1 + 3 * partitions, async () => {
    const result: PipelineRunResult = await client.workflow.execute(pipelineRun, {
      taskQueue: queues.pipeline,
      workflowId: `${prefix}run`,
      args: [
        {
          spec,
          run: `${stamp}-${n}`,
          source: { generate: { count: n } },
          queues: { workflow: queues.pipeline, activity: queues.stages },
          partitionWindow,
        },
      ],
    });
    const kept = keptOf(n);
    const problems: string[] = [];
    if (result.completed !== n) problems.push(`completed ${result.completed} ≠ ${n}`);
    if (result.deadLettered !== 0) problems.push(`${result.deadLettered} dead letters`);
    if (result.reduce.merge?.count !== 2 * kept) problems.push(`merge count ${result.reduce.merge?.count} ≠ ${2 * kept}`);
    if (result.stages['a-filter'].dropped !== n - kept) problems.push(`a-filter dropped ${result.stages['a-filter'].dropped}`);
    if (problems.length > 0) throw new Error(`pipeline run of ${n} items is wrong: ${problems.join('; ')}`);
    return `${result.partitions} partitions, merge count ${result.reduce.merge.count}`;
  });
}

async function runNaive(client: Client, server: ManagedProcess, stamp: string, n: number): Promise<Sample> {
  const prefix = `${stamp}/naive-${n}-${++runCounter}/`;
  return measure(client, server, 'naive', n, prefix, n + 1, async () => {
    const result: NaiveRunResult = await client.workflow.execute(naiveRun, {
      taskQueue: queues.naive,
      workflowId: `${prefix}run`,
      args: [
        {
          run: `${stamp}-${n}`,
          count: n,
          queues: { workflow: queues.naive, activity: queues.stages },
          window: naiveWindow,
          perRun: naivePerRun,
          keep,
        },
      ],
    });
    const kept = keptOf(n);
    if (result.completed !== n || result.even + result.odd !== kept) {
      throw new Error(`naive run of ${n} items is wrong: ${JSON.stringify(result)}`);
    }
    return `${result.runs} parent runs, kept ${kept}`;
  });
}

// ---------------------------------------------------------------------------------------------
// Report

interface Environment {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  sdk: string;
  server: string;
  cli: string;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const verdict = (ok: boolean | undefined) => (ok === undefined ? '**not measured**' : ok ? '**met**' : '**missed**');

function report(env: Environment, samples: Sample[], skippedNaive: number[], totalSeconds: number): string {
  const pipeline = samples.filter((s) => s.design === 'pipeline');
  const naive = samples.filter((s) => s.design === 'naive');
  const at = (list: Sample[], n: number) => list.find((s) => s.items === n);

  const rows = samples
    .slice()
    .sort((a, b) => a.items - b.items || a.design.localeCompare(b.design))
    .map(
      (s) =>
        `| ${s.design} | ${fmt(s.items)} | ${fmt(s.seconds, 1)} | ${fmt(s.itemsPerSecond, 1)} | ${fmt(s.executions)} | ${fmt(s.events)} | ${fmt(s.eventsPerItem, 2)} | ${fmt(s.maxEvents)} | ${mib(s.rss.before)} → ${mib(s.rss.after)} (peak ${mib(s.rss.peak)}) | ${mib(s.serverRss.before)} → ${mib(s.serverRss.after)} | ${fmt(s.workerCpuSeconds, 0)} / ${fmt(s.serverCpuSeconds, 0)} |`,
    );

  // Target 1: ≥ 5× the naive design's throughput, at every size both ran.
  const speedups = pipeline
    .map((p) => ({ p, n: at(naive, p.items) }))
    .filter((x): x is { p: Sample; n: Sample } => x.n !== undefined)
    .map(({ p, n }) => ({ items: p.items, ratio: p.itemsPerSecond / n.itemsPerSecond }));
  const speedupOk = speedups.length === 0 ? undefined : speedups.every((s) => s.ratio >= 5);
  // Target 2: ≤ 1 history event per item, amortized over every execution of the run.
  const eventsOk = pipeline.length === 0 ? undefined : pipeline.every((s) => s.eventsPerItem <= 1);
  // Target 3: throughput at 100k not more than 20 % below that at 1k.
  const small = at(pipeline, 1000);
  const large = at(pipeline, 100_000);
  const scaleRatio = small && large ? large.itemsPerSecond / small.itemsPerSecond : undefined;
  const scaleOk = scaleRatio === undefined ? undefined : scaleRatio >= 0.8;
  // Bound on every history.
  const maxOk = samples.length === 0 ? undefined : samples.every((s) => s.maxEvents < 10_000);
  const longest = (list: Sample[]) => list.reduce((m, s) => Math.max(m, s.maxEvents), 0);
  const peaks = pipeline.map((s) => `${fmt(s.items)}: ${mib(s.rss.peak)} MiB`).join(', ');

  const naiveProjection = (n: number) => {
    const rate = naive.length ? naive[naive.length - 1].itemsPerSecond : undefined;
    return rate ? ` (at the measured ${fmt(rate, 1)} items/s it would take about ${fmt(n / rate / 60, 0)} min)` : '';
  };

  return `# Benchmarks

Throughput of the pipeline interpreter (\`pipelineRun\` / \`pipelinePartition\`, src/workflows/pipeline.ts)
against the naive design of many samples (one child workflow per item), measured by
\`bench/pipeline-throughput.ts\` on ${env.date}. This file is generated by that script; numbers
come from one run on the machine below.

## What was measured

- **Pipeline**: a no-op 4-stage pipeline, validated with \`validatePipelineSpec\`: **copier → filter → splitter → merge**.
  \`copy\` duplicates every item into two branches (\`a\`, \`b\`, each a child workflow per partition);
  in each branch a \`filter\` keeps 90 % of the items (drops ids ending in 7), a \`split\` routes them by
  the parity of \`n\` to two \`noop\` activity stages (\`batchSize\` ${batchSize}), and all four reach one
  \`reduce\` (\`merge\`, counting). Items are synthesized in the workflow (\`source: { generate: { count } }\`),
  \`partitionSize\` ${fmt(partitionSize)}, \`partitionWindow\` ${partitionWindow} partitions at once,
  \`concurrency\` ${concurrency} activity calls at once per partition (or branch).
- **Naive**: \`bench/naive.workflows.ts\`. A parent workflow starts one child workflow per item, at most
  ${naiveWindow} at once, and continues-as-new every ${fmt(naivePerRun)} children (after draining its window)
  so its own history stays bounded. Each child runs the same 4 logical steps with **one activity call per
  step**: copy, filter (the same predicate, decided in the workflow after its activity), the
  even/odd stage, merge: the project's \`noop\` stage activity with one item and \`isolated: true\`, the
  engine's activity options (startToClose 5 min, heartbeat 30 s, same retry policy).
- Every run's result is checked (items completed, merge count = 2 × kept, drops), then measured:
  - **seconds**: wall time from starting the top workflow to its result; **items/s** = items / seconds;
  - **events**: the history length of every execution of the run, found through visibility with
    \`WorkflowId STARTS_WITH '<run prefix>'\` (the run workflow and all its continue-as-new runs, the
    partitions and the copy branches; for the naive design the parent runs and every child);
    **events/item** = events / items; **max events**: the longest single history (the Temporal limit
    is 51,200; our bound is 10,000);
  - **RSS** of the benchmark process, which hosts all workers (before → after the run, and the peak
    sampled every 250 ms), and of the dev server; **CPU s**: CPU seconds of the worker process / of the
    dev server during the run.
- Runs are sequential on one server: a warm-up (200 pipeline items, 20 naive items; not reported),
  then the pipeline at every size, then the naive design. Total benchmark time: ${fmt(totalSeconds / 60, 1)} min.

## Machine, server, settings

- ${env.cpus} CPUs (${env.cpuModel}), ${fmt(env.memoryGiB, 1)} GiB memory, ${env.os}, Node ${env.node}.
- Temporal ${env.server} (Temporal CLI ${env.cli} dev server, SQLite database file in the temp directory,
  log level warn); TypeScript SDK ${env.sdk}. Server, workers and client share the same ${env.cpus} CPUs.
- Workers, in the benchmark process, on one \`NativeConnection\`:
  - pipeline workflows (task queue \`${queues.pipeline}\`, bundle of src/workflows/index.ts) and naive
    workflows (\`${queues.naive}\`, bundle of bench/naive.workflows.ts), each with
    \`maxConcurrentWorkflowTaskExecutions: ${workflowWorkerOptions.maxConcurrentWorkflowTaskExecutions}\`,
    \`maxCachedWorkflows: ${workflowWorkerOptions.maxCachedWorkflows}\` (every running workflow stays cached: no replays),
    at most ${workflowWorkerOptions.workflowTaskPollerBehavior.maximum} workflow-task pollers; the default single
    workflow thread with a reused V8 context (2 cores: the server needs the other);
  - stage activities (\`${queues.stages}\`, \`stageActivities\`, \`interceptors: { activity: [autoHeartbeat] }\`),
    \`maxConcurrentActivityTaskExecutions: ${activityWorkerOptions.maxConcurrentActivityTaskExecutions}\`,
    at most ${activityWorkerOptions.activityTaskPollerBehavior.maximum} activity pollers. Both designs use the same workers.

## Results

| design | items | seconds | items/s | executions | events | events/item | max events in one execution | worker RSS MiB before → after (peak) | server RSS MiB | CPU s worker / server |
| --- | --: | --: | --: | --: | --: | --: | --: | --- | --- | --- |
${rows.join('\n')}

${samples.map((s) => `- ${s.design} ${fmt(s.items)}: ${s.detail}; longest history: \`${s.maxEventsWorkflow}\`.`).join('\n')}
${skippedNaive.map((n) => `- naive ${fmt(n)}: not run: one child workflow per item at this size exceeds the time budget of the benchmark${naiveProjection(n)}.`).join('\n')}

## Targets and verdicts

| target | result | verdict |
| --- | --- | --- |
| pipeline throughput ≥ 5 × the naive design's | ${speedups.map((s) => `${fmt(s.items)} items: ${fmt(s.ratio, 1)} ×`).join('; ') || 'no size with both designs'} | ${verdict(speedupOk)} |
| ≤ 1 history event per item, amortized | ${pipeline.map((s) => `${fmt(s.items)}: ${fmt(s.eventsPerItem, 2)}`).join('; ')} events/item | ${verdict(eventsOk)} |
| throughput at 100k within 20 % of that at 1k | ${scaleRatio === undefined ? 'needs both 1k and 100k' : `${fmt(large!.itemsPerSecond, 0)} vs ${fmt(small!.itemsPerSecond, 0)} items/s (${fmt(scaleRatio * 100, 0)} %)`} | ${verdict(scaleOk)} |
| every single history < 10,000 events | longest: pipeline ${fmt(longest(pipeline))}, naive ${fmt(longest(naive))} | ${verdict(maxOk)} |
| flat worker memory | pipeline peak RSS by size: ${peaks} | see table |

"Within 20 %" is read as: the 100k throughput is at least 80 % of the 1k throughput (being faster passes).

## How to reproduce

\`\`\`sh
node --require tsx/cjs bench/pipeline-throughput.ts --sizes ${sizes.join(',')} --out docs/benchmarks.md
\`\`\`

Options: \`--naive-sizes\` (default: the sizes up to ${fmt(naiveCap)}), \`--partition-size\`, \`--window\`,
\`--concurrency\`, \`--batch-size\`, \`--naive-window\`, \`--out -\` (print only). The script builds or reuses
the Temporal CLI (\`ensureTemporalCli\`), starts its own dev server on free ports with a fresh SQLite file,
and removes it afterwards.
`;
}

// ---------------------------------------------------------------------------------------------
// Main

const quiet = () => undefined;
const bundleLogger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: console.error };
const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function main(): Promise<void> {
  const started = performance.now();
  const cliPath = await ensureTemporalCli(log);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-bench-'));
  const [port, uiPort] = [await freePort(), await freePort()];
  log(`starting the dev server on 127.0.0.1:${port} (db ${tmp}/temporal.db)`);
  const server = await startDevServer({
    cliPath,
    port,
    uiPort,
    namespace: 'default',
    dbFile: path.join(tmp, 'temporal.db'),
    logFile: path.join(tmp, 'temporal-server.log'),
  });
  const address = `127.0.0.1:${port}`;
  let connection: Connection | undefined;
  let native: NativeConnection | undefined;
  const workers: Worker[] = [];
  const running: Promise<void>[] = [];
  try {
    connection = await Connection.connect({ address });
    const client = new Client({ connection });
    await ensureSearchAttributes(connection, 'default');
    const info = await connection.workflowService.getSystemInfo({});
    const env: Environment = {
      date: new Date().toISOString().slice(0, 10),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: os.totalmem() / 2 ** 30,
      os: `${os.type()} ${os.release()}`,
      node: process.versions.node,
      sdk: require('@temporalio/worker/package.json').version,
      server: `Server ${info.serverVersion ?? '?'}`,
      cli: `${temporalCliVersion} (${execFileSync(cliPath, ['--version'], { encoding: 'utf8' }).trim()})`,
    };

    log('bundling workflow code (pipeline + naive)');
    const [pipelineBundle, naiveBundle] = await Promise.all([
      bundleWorkflowCode({ workflowsPath: workflowsEntry, logger: bundleLogger }),
      bundleWorkflowCode({ workflowsPath: require.resolve('./naive.workflows'), logger: bundleLogger }),
    ]);
    native = await NativeConnection.connect({ address });
    const base = { connection: native, namespace: 'default' };
    workers.push(
      await Worker.create({
        ...base,
        ...workflowWorkerOptions,
        taskQueue: queues.pipeline,
        workflowBundle: pipelineBundle,
      }),
      await Worker.create({ ...base, ...workflowWorkerOptions, taskQueue: queues.naive, workflowBundle: naiveBundle }),
      await Worker.create({
        ...base,
        ...activityWorkerOptions,
        taskQueue: queues.stages,
        activities: stageActivities,
        interceptors: { activity: [autoHeartbeat] },
      }),
    );
    for (const w of workers) running.push(w.run());

    const stamp = `bench-${Date.now().toString(36)}`;
    log('warm-up');
    await runPipeline(client, server, stamp, 200);
    await runNaive(client, server, stamp, 20);

    const samples: Sample[] = [];
    const show = (s: Sample) =>
      log(
        `${s.design} ${s.items}: ${s.seconds.toFixed(1)} s, ${s.itemsPerSecond.toFixed(1)} items/s, ` +
          `${s.events} events in ${s.executions} executions (${s.eventsPerItem.toFixed(2)}/item, max ${s.maxEvents}), ` +
          `RSS ${mib(s.rss.before)}→${mib(s.rss.after)} MiB (peak ${mib(s.rss.peak)}), server ${mib(s.serverRss.after)} MiB, ` +
          `CPU ${s.workerCpuSeconds.toFixed(0)}/${s.serverCpuSeconds.toFixed(0)} s; ${s.detail}`,
      );
    for (const n of sizes) {
      log(`pipeline ${n}...`);
      const s = await runPipeline(client, server, stamp, n);
      samples.push(s);
      show(s);
    }
    for (const n of naiveSizes) {
      log(`naive ${n}...`);
      const s = await runNaive(client, server, stamp, n);
      samples.push(s);
      show(s);
    }
    const skipped = sizes.filter((n) => !naiveSizes.includes(n));
    const text = report(env, samples, skipped, (performance.now() - started) / 1000);
    if (out) {
      const config = (await prettier.resolveConfig(out)) ?? {};
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, await prettier.format(text, { ...config, filepath: out }));
      log(`wrote ${path.relative(process.cwd(), out)}`);
    } else {
      console.log(text);
    }
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(running);
    await native?.close();
    await connection?.close();
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
