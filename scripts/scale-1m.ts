/**
 * 1,000,000 no-op items in one run on the dev server (issue 12, "Scale"): the items are a JSON
 * Lines file that the client stores as the run's manifest, and each partition reads its page of it
 * (`readItemsPage`), so no payload carries more than a partition. One worker process (all roles).
 *
 *   node --require tsx/cjs scripts/scale-1m.ts [--items N] [--batch B] [--max-minutes M]
 *
 * Reports: completion, items/s, the worker's peak RSS (sampled every second), the largest
 * execution's history length and the events per item. A run still going after --max-minutes
 * (default 20) is measured on the items done so far and the rest projected, then terminated.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const items = Number(arg('--items', '1000000'));
const batchSize = Number(arg('--batch', '100'));
const maxMinutes = Number(arg('--max-minutes', '20'));
const log = (line: string) => console.log(`[scale-1m ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scale-1m-'));
  // The client and the worker process share this store (the manifest, the results parts); set
  // before the project's modules load (src/infra/paths.ts reads it once).
  process.env.BATCH_DATA_DIR = path.join(dir, 'data');
  const { startProjectStack } =
    require('../bench/support/project-runs') as typeof import('../bench/support/project-runs');
  const { procRss, executions, historyLength } =
    require('../bench/support/measure') as typeof import('../bench/support/measure');
  const { startWorkerProcess } = require('../src/infra/worker-process') as typeof import('../src/infra/worker-process');
  const { startPipelineRun } = require('../src/client/pipeline-run') as typeof import('../src/client/pipeline-run');
  const { pipelineProgressQuery } = require('../src/workflows/pipeline') as typeof import('../src/workflows/pipeline');
  const { readPipelineItems } =
    require('../src/sources/pipeline-items') as typeof import('../src/sources/pipeline-items');

  const file = path.join(dir, 'items.jsonl');
  const out = fs.createWriteStream(file);
  for (let n = 0; n < items; n++) out.write(`${JSON.stringify({ id: `item-${n}`, data: { n } })}\n`);
  await new Promise<void>((resolve) => out.end(resolve));
  log(`${items} items in ${file} (${(fs.statSync(file).size / 2 ** 20).toFixed(1)} MiB)`);

  const stack = await startProjectStack(dir, log);
  const worker = await startWorkerProcess({
    name: 'scale worker',
    config: stack.config,
    workflowBundlePath: stack.bundlePath,
    logFile: path.join(dir, 'worker.log'),
  });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, procRss(worker.child.pid))), 1000);
  try {
    const spec = {
      name: 'scale-1m',
      start: 'work',
      partitionSize: 1000,
      stages: { work: { kind: 'activity' as const, activity: 'noop', batchSize } },
    };
    const source = { items: await readPipelineItems(file) };
    const t0 = Date.now();
    const handle = await startPipelineRun(stack.client, stack.config, spec, source, { runName: `n${items}` });
    source.items = [];
    log(`started ${handle.workflowId}`);
    const deadline = t0 + maxMinutes * 60_000;
    let done = 0;
    let finished = false;
    while (Date.now() < deadline) {
      const d = await handle.describe();
      if (d.status.name !== 'RUNNING') {
        finished = d.status.name === 'COMPLETED';
        break;
      }
      done = (await handle.query(pipelineProgressQuery).catch(() => ({ done }))).done;
      log(`${done} / ${items} done, worker RSS ${(procRss(worker.child.pid) / 2 ** 20).toFixed(0)} MiB`);
      await new Promise((r) => setTimeout(r, 15_000));
    }
    const seconds = (Date.now() - t0) / 1000;
    if (finished) done = (await handle.result()).completed;
    else await handle.terminate('scale-1m: measured until --max-minutes').catch(() => undefined);
    const found = await executions(stack.client, handle.workflowId, 1);
    let events = 0;
    let largest = 0;
    for (const e of found) {
      const n = await historyLength(stack.client, e);
      events += n;
      largest = Math.max(largest, n);
    }
    const figures = {
      items,
      finished,
      done,
      seconds: Math.round(seconds),
      itemsPerSecond: Math.round(done / seconds),
      projectedMinutes: finished ? undefined : +(items / (done / seconds) / 60).toFixed(1),
      workerPeakRssMiB: Math.round(peakRss / 2 ** 20),
      executions: found.length,
      largestExecutionEvents: largest,
      eventsPerItem: +(events / Math.max(1, done)).toFixed(3),
      load: os.loadavg()[0].toFixed(1),
    };
    console.log(JSON.stringify(figures));
  } finally {
    clearInterval(sampler);
    await worker.stop();
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
