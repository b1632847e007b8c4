import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  formatRetiredReport,
  runningRetiredWorkflows,
  type RetiredWorkflowType,
} from '../src/client/retired-workflows';
import { sharedDevServer } from './support/servers';

/** Visibility is eventually consistent: poll until the counts satisfy `ok`. */
async function countsWhen(
  env: TestWorkflowEnvironment,
  ok: (counts: Record<RetiredWorkflowType, number>) => boolean,
): Promise<Record<RetiredWorkflowType, number>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const counts = await runningRetiredWorkflows(env.client);
    if (ok(counts) || Date.now() > deadline) return counts;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('retired workflow types: the drain check', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await sharedDevServer();
  });

  it('counts a running execution of an old type until it ends, and says when the types can go', async () => {
    const before = await runningRetiredWorkflows(env.client);
    // No worker polls this queue: the old-type run stays Running, as one started before an upgrade would.
    const handle = await env.client.workflow.start('thumbnailer', {
      taskQueue: `retired-check-${Date.now()}`,
      workflowId: `retired-check/thumbnailer-${Date.now()}`,
      args: [{ items: [], outputDir: '/nowhere', sizes: [], concurrency: 1, queues: { video: 'v', image: 'i' } }],
    });
    const during = await countsWhen(env, (c) => c.thumbnailer === before.thumbnailer + 1);
    assert.equal(during.thumbnailer, before.thumbnailer + 1);
    assert.match(formatRetiredReport(during), /^thumbnailer\t\d+ running$/m);
    assert.match(formatRetiredReport(during), /Not drained: \d+ run\(s\) of retired types still running/);

    await handle.terminate('drain check test');
    const after = await countsWhen(env, (c) => c.thumbnailer === before.thumbnailer);
    assert.deepEqual(after, before);
  });

  it('reports drained when every count is 0', () => {
    const report = formatRetiredReport({ thumbnailer: 0, transcode: 0, transcodeUpload: 0, transcodeRendition: 0 });
    assert.match(report, /^Drained: no run of a retired workflow type is running here/m);
    assert.equal(report.split('\n').length, 5);
  });
});
