/**
 * The other pipeline flows at 10,000 inputs in one run (issue 11; not a test: it takes minutes):
 * signup-notify (sharded enrich, copy, filter, split, reduce) and inbox-files (activity + reduce
 * histogram) from pipelines/examples/, each on 10,000 generated items with some bad ones, on a dev
 * server of its own with in-process workers. Prints per run: counts, the summary's failure groups,
 * the results parts, and the largest event of every history of the run (run, partitions, copy
 * branches), which must stay under 256 KB. The thumbnailer and image tagging are in
 * test/scale-10k.test.ts, the transcode flow in scripts/scale-transcode.ts.
 *
 *   node --require tsx/cjs scripts/scale-check.ts [--count 10000] [--data-dir <temp dir>]
 */
// First: sets BATCH_DATA_DIR (results parts and item manifests go to a folder of this check).
import { dataDir } from './support/data-dir';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { reportActivities, stageActivities } from '../src/activities/pipeline';
import { formatResultsSummary } from '../src/cli/results-summary';
import { startPipelineRun } from '../src/client/pipeline-run';
import { allSearchAttributes } from '../src/core/search-attributes';
import { devServerDynamicConfig } from '../src/devstack/dev-server';
import { ensureTemporalCli } from '../src/devstack/tools/temporal-cli';
import { loadConfig } from '../src/infra/config';
import { repoRoot } from '../src/infra/paths';
import { loadPipelineSpecFile } from '../src/pipelines/load';
import { autoHeartbeat } from '../src/workers/auto-heartbeat';
import { quietLogger, workflowsEntry } from '../src/workers/workflow-bundle';
import { shardQueue } from '../src/workflows/patterns/sharder';
import { measureHistories } from '../test/support/history-sizes';
import { numberArg, scriptLog } from './support/args';

const count = numberArg('--count', 10_000);
const log = scriptLog('scale-check');
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

async function main(): Promise<void> {
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
      const sizes = await measureHistories(env.client, handle.workflowId);
      log(
        `${spec.name}: ${result.total} items, ${result.completed} completed, ${result.dropped} dropped, ${result.deadLettered} dead-lettered, ${result.partitions} partitions in ${seconds.toFixed(1)} s`,
      );
      for (const line of formatResultsSummary(result.results)) log(`  ${line}`);
      log(
        `  histories: ${sizes.workflows}, events: ${sizes.events}, largest event ${kb(sizes.largest.bytes)} (${sizes.largest.eventType} of ${sizes.largest.workflowId}); result payload ${kb(JSON.stringify(result).length)}`,
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
  log(`data folder: ${dataDir}`);
  if (failed) process.exit(1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
