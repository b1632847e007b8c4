/**
 * The pipeline engine's cost per item, in one process: the one-stage no-op pipeline of issue 12
 * (`start: work`; `work`: activity `noop`, partitionSize 1000, batchSize B) run on the dev server
 * by an in-process worker (workflow + stage roles), then one partition's history replayed R times.
 *
 *   node --require tsx/cjs bench/engine-cpu.ts [--items N] [--batch B] [--replays R] [--local] [--out FILE|-]
 *
 * Reports: worker CPU per item during the run (this process, all threads: workflow code, stage
 * activities, the SDK), the dev server's CPU per item, items/s, history events per item, and the
 * workflow code's CPU per item on replay (the engine's walk alone, with the SDK's per-activation
 * cost amortised over a partition). Not a test: numbers for docs/benchmarks.md ("Engine cost
 * per item"); --out FILE appends them as a JSON line, --save-history FILE keeps the replayed history.
 */
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { startPipelineRun } from '../src/client/pipeline-run';
import { validatePipelineSpec } from '../src/pipelines/validate';
import { createWorkers } from '../src/workers/create-workers';
import { NativeConnection } from '@temporalio/worker';
import { executions, historyLength, procCpuSeconds } from './support/measure';
import { startProjectStack } from './support/project-runs';

const { values: options } = parseArgs({
  options: {
    items: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '100' },
    replays: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8' },
    local: { type: 'boolean', default: false },
    /** `--eager`: the stage on the workflow task queue, so its calls are dispatched eagerly. */
    eager: { type: 'boolean', default: false },
    out: { type: 'string', default: '-' },
    'save-history': { type: 'string', default: '' },
  },
});
/** A whole number ≥ 0 from an option (underscores allowed: 10_000). */
function whole(name: keyof typeof options): number {
  const text = String(options[name]);
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} needs a whole number, not ${text}`);
  return n;
}
const items = whole('items');
const batchSize = whole('batch');
const replays = whole('replays');
const concurrency = whole('concurrency');
const { local, eager, out } = options;
const log = (line: string) => console.log(`[engine-cpu ${new Date().toISOString().slice(11, 19)}] ${line}`);

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-cpu-'));
  const stack = await startProjectStack(dir, log);
  const connection = await NativeConnection.connect({ address: stack.address });
  const workers = await createWorkers({
    connection,
    config: stack.config,
    roles: ['workflows', 'stages'],
    workflowBundlePath: stack.bundlePath,
    identity: 'engine-cpu',
  });
  const running = workers.map((w) => w.run());
  try {
    const spec = validatePipelineSpec({
      name: `engine-cpu-b${batchSize}${local ? '-local' : ''}${eager ? '-eager' : ''}`,
      start: 'work',
      partitionSize: 1000,
      concurrency,
      stages: {
        work: {
          kind: 'activity',
          activity: 'noop',
          batchSize,
          ...(local ? { local: true } : {}),
          ...(eager ? { taskQueue: stack.config.queues.workflow } : {}),
        },
      },
    } as never);
    const run = async (count: number, runName: string) => {
      const cpu0 = cpuSeconds();
      const server0 = procCpuSeconds(stack.server.child.pid);
      const t0 = Date.now();
      const handle = await startPipelineRun(stack.client, stack.config, spec, { generate: { count } }, { runName });
      const result = await handle.result();
      const wall = (Date.now() - t0) / 1000;
      if (result.completed !== count) throw new Error(`completed ${result.completed} of ${count}`);
      return {
        workflowId: handle.workflowId,
        wall,
        workerCpu: cpuSeconds() - cpu0,
        serverCpu: procCpuSeconds(stack.server.child.pid) - server0,
      };
    };
    log(`warm-up: 1000 items`);
    await run(1000, 'warm-up');
    log(`measured: ${items} items, batchSize ${batchSize}${local ? ', local activities' : ''}`);
    const m = await run(items, 'measured');
    const found = (await executions(stack.client, m.workflowId, 1)).filter(
      (e) => e.workflowId === m.workflowId || e.workflowId.startsWith(`${m.workflowId}/`),
    );
    let events = 0;
    for (const e of found) events += await historyLength(stack.client, e);

    log(`replaying partition p0 ${replays} times`);
    const history = await stack.client.workflow.getHandle(`${m.workflowId}/p0`).fetchHistory();
    const partitionItems = Math.min(1000, items);
    const saveHistory = options['save-history'];
    if (saveHistory) fs.writeFileSync(saveHistory, historyToJSON(history));
    const r0 = cpuSeconds();
    const t0 = Date.now();
    const histories = Array.from({ length: replays }, () => ({ workflowId: `${m.workflowId}/p0`, history }));
    for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: stack.bundlePath } }, histories)) {
      if (r.error) throw r.error;
    }
    const replayCpu = cpuSeconds() - r0;
    const figures = {
      items,
      batchSize,
      local,
      eager,
      concurrency,
      itemsPerSecond: Math.round(items / m.wall),
      workerCpuMsPerItem: +((m.workerCpu * 1000) / items).toFixed(3),
      serverCpuMsPerItem: +((m.serverCpu * 1000) / items).toFixed(3),
      eventsPerItem: +(events / items).toFixed(3),
      executions: found.length,
      replayCpuMsPerItem: +((replayCpu * 1000) / (replays * partitionItems)).toFixed(4),
      replayWallSeconds: (Date.now() - t0) / 1000,
      load: os.loadavg()[0].toFixed(1),
    };
    console.log(JSON.stringify(figures));
    if (out !== '-') fs.appendFileSync(out, `${JSON.stringify(figures)}\n`);
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await connection.close();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
