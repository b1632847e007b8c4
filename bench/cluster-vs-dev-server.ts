/**
 * The no-op pipeline benchmark (the copy → filter → split → merge spec of
 * bench/pipeline-throughput.ts, items generated in the workflow) on the dev server (SQLite) and on
 * the local cluster (PostgreSQL + four service processes, src/cluster/), in one run on one machine.
 * Not a test: it measures and prints a Markdown section (docs/cluster.md keeps the last one).
 *
 *   node --require tsx/cjs bench/cluster-vs-dev-server.ts [--sizes 10000,50000]
 *
 * Per server and size: wall time, items/s, history events per item (every execution of the run,
 * found with WorkflowId STARTS_WITH), server CPU seconds and memory (PSS, summed over the server's
 * processes: the dev server; or the four services, PostgreSQL and its backends).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection, WorkflowExecutionInfo } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { stageActivities } from '../src/activities/pipeline';
import { ensureSearchAttributes } from '../src/client/search-attributes';
import { Cluster, freeClusterPorts } from '../src/cluster/cluster';
import { startDevServer } from '../src/devstack/dev-server';
import { ensureTemporalCli } from '../src/devstack/tools/temporal-cli';
import { freePort, sleep } from '../src/infra/wait';
import { autoHeartbeat } from '../src/workers/auto-heartbeat';
import { quietLogger, workflowsEntry } from '../src/workers/workflow-bundle';
import { pipelineRun } from '../src/workflows/pipeline';
import { keptOf, noopPipelineSpec } from './support/noop-pipeline';

const sizesArg = process.argv[process.argv.indexOf('--sizes') + 1];
const sizes = process.argv.includes('--sizes') ? sizesArg.split(',').map(Number) : [10_000, 50_000];
const queues = { pipeline: 'bench-pipeline', stages: 'bench-stages' };

const spec = noopPipelineSpec({ partitionSize: 1000, concurrency: 8, batchSize: 100 });

/** The pid and every descendant (PostgreSQL's backends). */
function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** CPU seconds of the processes (user + system, plus what their reaped children used). */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // gone
    }
  }
  return ticks / 100;
}

/** Proportional set size (shared pages split between the processes sharing them), in bytes. */
function pss(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/Pss:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb * 1024;
}

interface Server {
  name: string;
  address: string;
  pids: () => number[];
  stop: () => Promise<void>;
}

async function devServer(dir: string): Promise<Server> {
  const proc = await startDevServer({
    cliPath: await ensureTemporalCli(console.log),
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
    dbFile: path.join(dir, 'temporal.db'),
    logFile: path.join(dir, 'dev-server.log'),
  });
  const address = `127.0.0.1:${proc.child.spawnargs[proc.child.spawnargs.indexOf('--port') + 1]}`;
  return { name: 'dev server (SQLite)', address, pids: () => tree(proc.child.pid!), stop: () => proc.stop() };
}

async function cluster(dir: string): Promise<Server> {
  fs.chmodSync(dir, 0o755);
  const c = await Cluster.start(
    { dir, ports: await freeClusterPorts(), namespace: 'default', numHistoryShards: 4, retentionDays: 1, noUi: true },
    console.log,
  );
  return {
    name: 'cluster (PostgreSQL 15, 4 services)',
    address: c.frontendAddress,
    pids: () => [...[...c.services.values()].map((p) => p.child.pid!), ...tree(c.postgres.pid!)],
    stop: () => c.stop(),
  };
}

interface Row {
  server: string;
  items: number;
  seconds: number;
  eventsPerItem: number;
  cpu: number;
  pssMiB: number;
}

async function measure(server: Server, bundle: Awaited<ReturnType<typeof bundleWorkflowCode>>): Promise<Row[]> {
  const connection = await Connection.connect({ address: server.address });
  await ensureSearchAttributes(connection, 'default');
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  const workers = [
    await Worker.create({
      connection: native,
      taskQueue: queues.pipeline,
      workflowBundle: bundle,
      maxConcurrentWorkflowTaskExecutions: 64,
      maxCachedWorkflows: 2000,
      workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 8 },
    }),
    await Worker.create({
      connection: native,
      taskQueue: queues.stages,
      activities: stageActivities,
      interceptors: { activity: [autoHeartbeat] },
      maxConcurrentActivityTaskExecutions: 200,
      activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 8 },
    }),
  ];
  const running = workers.map((w) => w.run());
  const rows: Row[] = [];
  try {
    for (const n of [200, ...sizes]) {
      const prefix = `bench/${Date.now()}-${n}/`;
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, pss(server.pids()))), 1000);
      const cpu0 = cpuSeconds(server.pids());
      const t0 = performance.now();
      const result = await client.workflow.execute(pipelineRun, {
        taskQueue: queues.pipeline,
        workflowId: `${prefix}run`,
        args: [
          {
            spec,
            run: `bench-${n}`,
            source: { generate: { count: n } },
            queues: { workflow: queues.pipeline, activity: queues.stages },
            partitionWindow: 8,
          },
        ],
      });
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(sampler);
      const cpu = cpuSeconds(server.pids()) - cpu0;
      if (result.completed !== n || result.reduce.merge?.count !== 2 * keptOf(n)) {
        throw new Error(
          `wrong result at ${n}: ${JSON.stringify({ completed: result.completed, merge: result.reduce.merge })}`,
        );
      }
      if (n === 200) continue; // warm-up
      let events = 0;
      for (;;) {
        const found: WorkflowExecutionInfo[] = [];
        for await (const e of client.workflow.list({ query: `WorkflowId STARTS_WITH "${prefix}"` })) found.push(e);
        if (found.length > 0 && found.every((e) => e.status.name !== 'RUNNING')) {
          for (const e of found) {
            events +=
              e.historyLength || (await client.workflow.getHandle(e.workflowId, e.runId).describe()).historyLength;
          }
          break;
        }
        await sleep(1000);
      }
      rows.push({ server: server.name, items: n, seconds, eventsPerItem: events / n, cpu, pssMiB: peak / 2 ** 20 });
      console.log(JSON.stringify(rows[rows.length - 1]));
    }
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await native.close();
    await connection.close();
  }
  return rows;
}

async function main(): Promise<void> {
  const bundle = await bundleWorkflowCode({ workflowsPath: workflowsEntry, logger: quietLogger });
  const rows: Row[] = [];
  for (const start of [devServer, cluster]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cluster-'));
    const server = await start(dir);
    try {
      rows.push(...(await measure(server, bundle)));
    } finally {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const lines = [
    `| server | items | seconds | items/s | events/item | server CPU s (share of ${os.cpus().length} CPUs) | server memory, peak PSS MiB |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.server} | ${r.items.toLocaleString('en')} | ${r.seconds.toFixed(1)} | ${Math.round(r.items / r.seconds).toLocaleString('en')} | ${r.eventsPerItem.toFixed(2)} | ${r.cpu.toFixed(0)} (${Math.round((100 * r.cpu) / r.seconds / os.cpus().length)} %) | ${Math.round(r.pssMiB)} |`,
    ),
  ];
  console.log(`\n${lines.join('\n')}\n`);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
