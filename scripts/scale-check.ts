/**
 * The other pipeline flows at 10,000 inputs in one run (issue 11; not a test: it takes minutes):
 * signup-notify (sharded enrich, copy, filter, split, reduce) and inbox-files (activity + reduce
 * histogram) from pipelines/examples/, each on 10,000 generated items with some bad ones, on a dev
 * server of its own with in-process workers. Prints per run: counts, the summary's failure groups,
 * the results parts, and the largest event of every history of the run (run, partitions, copy
 * branches), which must stay under 256 KB. The thumbnailer and image tagging are in
 * test/scale-10k.test.ts, the transcode flow in scripts/scale-transcode.ts.
 *
 *   node --require tsx/cjs scripts/scale-check.ts [--count 10000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const countArg = process.argv.indexOf('--count');
const count = countArg >= 0 ? Number(process.argv[countArg + 1]) : 10_000;
// Before anything reads it: results parts and item manifests go to a folder of this check.
process.env.BATCH_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), 'scale-check-'));

const log = (line: string) => console.log(`[scale-check] ${line}`);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

async function main(): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { TestWorkflowEnvironment } = require('@temporalio/testing') as typeof import('@temporalio/testing');
  const { Worker, bundleWorkflowCode } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  const { temporal } = require('@temporalio/proto') as typeof import('@temporalio/proto');
  const { stageActivities, reportActivities } =
    require('../src/activities/pipeline') as typeof import('../src/activities/pipeline');
  const { startPipelineRun } = require('../src/client/pipeline-run') as typeof import('../src/client/pipeline-run');
  const { allSearchAttributes } =
    require('../src/core/search-attributes') as typeof import('../src/core/search-attributes');
  const { loadPipelineSpecFile } = require('../src/pipelines/load') as typeof import('../src/pipelines/load');
  const { devServerDynamicConfig } =
    require('../src/devstack/dev-server') as typeof import('../src/devstack/dev-server');
  const { loadConfig } = require('../src/infra/config') as typeof import('../src/infra/config');
  const { repoRoot } = require('../src/infra/paths') as typeof import('../src/infra/paths');
  const { ensureTemporalCli } =
    require('../src/devstack/tools/temporal-cli') as typeof import('../src/devstack/tools/temporal-cli');
  const { quietLogger, workflowsEntry } =
    require('../src/workers/workflow-bundle') as typeof import('../src/workers/workflow-bundle');
  const { formatResultsSummary } = require('../src/cli/results-summary') as typeof import('../src/cli/results-summary');
  const { shardQueue } =
    require('../src/workflows/patterns/sharder') as typeof import('../src/workflows/patterns/sharder');
  const { autoHeartbeat } = require('../src/workers/auto-heartbeat') as typeof import('../src/workers/auto-heartbeat');

  const cli = await ensureTemporalCli(() => undefined);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli },
      searchAttributes: allSearchAttributes,
      log: { format: 'pretty', level: 'error' },
      extraArgs: devServerDynamicConfig,
    },
  });
  const config = loadConfig({});
  const bundle = await bundleWorkflowCode({ workflowsPath: workflowsEntry, logger: quietLogger });
  const base = { connection: env.nativeConnection, namespace: config.namespace };
  const activities = { ...stageActivities, ...reportActivities };
  const queues = [config.queues.stages, ...[0, 1, 2].map((k) => shardQueue('signup-enrich', k))];
  const workers = await Promise.all([
    Worker.create({ ...base, taskQueue: config.queues.workflow, workflowBundle: bundle }),
    ...queues.map((taskQueue) =>
      Worker.create({ ...base, taskQueue, activities, interceptors: { activity: [autoHeartbeat] } }),
    ),
  ]);
  const running = workers.map((w) => w.run());

  const largestEvent = async (workflowId: string) => {
    let workflows = 0;
    let events = 0;
    let largest = { bytes: 0, type: '', workflowId };
    const pending: { id: string; runId?: string }[] = [{ id: workflowId }];
    while (pending.length > 0) {
      const { id, runId } = pending.pop()!;
      const history = await env.client.workflow.getHandle(id, runId).fetchHistory();
      workflows += 1;
      for (const e of history.events ?? []) {
        events += 1;
        const bytes = temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
        if (bytes > largest.bytes) {
          largest = { bytes, type: temporal.api.enums.v1.EventType[e.eventType as number] ?? '', workflowId: id };
        }
        const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
        if (child?.workflowId) pending.push({ id: child.workflowId, runId: child.runId ?? undefined });
        const previous = e.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
        if (previous) pending.push({ id, runId: previous });
      }
    }
    return { workflows, events, largest };
  };

  const flows = [
    {
      file: 'signup-notify.yaml',
      // Sharded enrich, a copy into audit and a filter → split → notify branch, at scale.
      items: Array.from({ length: count }, (_, i) => ({
        id: `user-${String(i).padStart(5, '0')}`,
        data: { email: `user${i}@example.test`, optIn: i % 3 !== 0, channel: i % 2 === 0 ? 'email' : 'sms' },
      })),
    },
    {
      file: 'inbox-files.yaml',
      items: Array.from({ length: count }, (_, i) => ({
        id: `file-${String(i).padStart(5, '0')}`,
        data: { bytes: 100 + (i % 1000), extension: ['jpg', 'png', 'mp4', 'txt'][i % 4] },
      })),
    },
  ];
  let failed = false;
  try {
    for (const flow of flows) {
      const spec = loadPipelineSpecFile(path.join(repoRoot, 'pipelines', 'examples', flow.file));
      const runName = `scale-${Date.now()}`;
      const started = performance.now();
      const handle = await startPipelineRun(env.client, config, spec, { items: flow.items }, { runName });
      const result = await handle.result();
      const seconds = (performance.now() - started) / 1000;
      const sizes = await largestEvent(handle.workflowId);
      log(
        `${spec.name}: ${result.total} items, ${result.completed} completed, ${result.dropped} dropped, ${result.deadLettered} dead-lettered, ${result.partitions} partitions in ${seconds.toFixed(1)} s`,
      );
      for (const line of formatResultsSummary(result.results)) log(`  ${line}`);
      log(
        `  histories: ${sizes.workflows}, events: ${sizes.events}, largest event ${kb(sizes.largest.bytes)} (${sizes.largest.type} of ${sizes.largest.workflowId}); result payload ${kb(JSON.stringify(result).length)}`,
      );
      if (sizes.largest.bytes >= 256 * 1024) {
        failed = true;
        log(`  OVER 256 KB`);
      }
    }
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await env.teardown();
  }
  log(`data folder: ${process.env.BATCH_DATA_DIR}`);
  if (failed) process.exit(1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
