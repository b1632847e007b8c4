/**
 * Records workflow histories for the replay tests (test/replay.test.ts): runs each scenario on a
 * real dev server with stand-in activities and saves every execution's history as JSON under
 * test/histories/. Re-record only on purpose — when a change is *meant* to be incompatible and
 * running workflows have been drained; the old files are what guard running workflows.
 *
 *   node --require tsx/cjs scripts/record-histories.ts
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
import { thumbnailer, ThumbnailerInput } from '../src/workflows/thumbnailer';
import { isolatedConfig } from '../test/support/config';
import { items, standIns } from '../test/support/stand-ins';
import { withWorkers } from '../test/support/workers';

const historiesDir = path.join(repoRoot, 'test', 'histories');

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

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const cli = await ensureTemporalCli(console.log);
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: cli }, searchAttributes: allSearchAttributes },
  });
  try {
    fs.mkdirSync(historiesDir, { recursive: true });
    for (const scenario of scenarios) {
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
      // Every execution of the chain (continue-as-new makes several), oldest first.
      const runs = [];
      for await (const execution of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
        runs.push(execution);
      runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
      for (const [index, run] of runs.entries()) {
        const history = await env.client.workflow.getHandle(workflowId, run.runId).fetchHistory();
        const file = path.join(historiesDir, `${scenario.name}${runs.length > 1 ? `-${index + 1}` : ''}.json`);
        fs.writeFileSync(file, historyToJSON(history) + '\n');
        console.log(`recorded ${path.relative(repoRoot, file)} (${history.events?.length} events)`);
      }
    }
  } finally {
    await env.teardown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
