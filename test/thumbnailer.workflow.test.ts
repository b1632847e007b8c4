/**
 * The batch-run workflow's logic on the time-skipping test server, with stand-in activities:
 * bounded concurrency, one outcome per item, bad items set aside without failing the run,
 * retries with hours of backoff in skipped time, continue-as-new carrying the outcomes.
 */
import assert from 'node:assert/strict';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { thumbnailer } from '../src/workflows/flows/thumbnailer';
import { items, standIns, thumbnailerInput } from './support/stand-ins';
import { createTimeSkippingServer } from './support/servers';
import { isolatedConfig } from './support/config';
import { withWorkers } from './support/workers';

describe('thumbnailer workflow (time-skipping server)', function () {
  let env: TestWorkflowEnvironment;

  before(async function () {
    env = await createTimeSkippingServer();
  });
  after(async () => {
    await env?.teardown();
  });

  it('processes every item once, never more than `concurrency` at a time, and joins them in a contact sheet', async () => {
    const config = isolatedConfig();
    const acts = standIns();
    const result = await withWorkers(env, config, acts, () =>
      env.client.workflow.execute(thumbnailer, {
        taskQueue: config.queues.workflow,
        workflowId: 'ok-run',
        args: [thumbnailerInput(config, {})],
      }),
    );
    assert.equal(result.progress.succeeded, 6);
    assert.equal(result.progress.failed, 0);
    assert.deepEqual(
      result.outcomes.map((o) => o.itemId).sort(),
      items(6)
        .map((i) => i.id)
        .sort(),
    );
    assert.deepEqual(
      [...acts.calls.extract].sort(),
      items(6)
        .map((i) => i.id)
        .sort(),
    );
    assert.ok(acts.maxRunning() <= 2, `at most 2 at once, saw ${acts.maxRunning()}`);
    assert.equal(acts.calls.sheet.length, 1);
    assert.equal(acts.calls.sheet[0].entries.length, 6);
  });

  it('records a bad item as failed with its stage and reason, sets it aside, does not retry it, and finishes the rest', async () => {
    const config = isolatedConfig();
    const acts = standIns((i) =>
      i.itemId === 'video-3'
        ? ApplicationFailure.nonRetryable('video-3.mp4 is not a readable video', 'InvalidInput')
        : undefined,
    );
    const result = await withWorkers(env, config, acts, () =>
      env.client.workflow.execute(thumbnailer, {
        taskQueue: config.queues.workflow,
        workflowId: 'bad-item',
        args: [thumbnailerInput(config, {})],
      }),
    );
    assert.equal(result.progress.succeeded, 5);
    assert.equal(result.progress.failed, 1);
    const failed = result.outcomes.find((o) => o.status === 'failed');
    assert.deepEqual(failed, {
      itemId: 'video-3',
      status: 'failed',
      failure: { stage: 'extractFrame', type: 'InvalidInput', message: 'video-3.mp4 is not a readable video' },
    });
    assert.equal(acts.calls.extract.filter((id) => id === 'video-3').length, 1, 'bad input is not retried');
    assert.deepEqual(
      acts.calls.setAside.map((s) => s.item.id),
      ['video-3'],
    );
    assert.equal(acts.calls.sheet[0].entries.length, 5);
  });

  it('retries a flaky stage with hours of exponential backoff in skipped time', async () => {
    const config = isolatedConfig();
    const acts = standIns((i) =>
      i.itemId === 'video-0' && Context.current().info.attempt < 3 ? new Error('NFS mount went away') : undefined,
    );
    const before = await env.currentTimeMs();
    const result = await withWorkers(env, config, acts, () =>
      env.client.workflow.execute(thumbnailer, {
        taskQueue: config.queues.workflow,
        workflowId: 'flaky',
        args: [
          thumbnailerInput(config, {
            items: items(2),
            retry: { initialInterval: '2 hours', backoffCoefficient: 2, maximumAttempts: 5 },
          }),
        ],
      }),
    );
    const skippedHours = ((await env.currentTimeMs()) - before) / 3_600_000;
    assert.equal(result.progress.succeeded, 2, JSON.stringify(result.outcomes));
    assert.equal(acts.calls.extract.filter((id) => id === 'video-0').length, 3);
    // Backoff of 2 h then 4 h before the third attempt.
    assert.ok(skippedHours >= 6, `expected ≥ 6 h of workflow time, got ${skippedHours.toFixed(2)} h`);
  });

  it('gives up after the last attempt and reports the item failed', async () => {
    const config = isolatedConfig();
    const acts = standIns((i) => (i.itemId === 'video-1' ? new Error('disk full') : undefined));
    const result = await withWorkers(env, config, acts, () =>
      env.client.workflow.execute(thumbnailer, {
        taskQueue: config.queues.workflow,
        workflowId: 'poison',
        args: [thumbnailerInput(config, { items: items(3) })],
      }),
    );
    assert.equal(acts.calls.extract.filter((id) => id === 'video-1').length, 3, 'maximumAttempts is 3');
    const failed = result.outcomes.filter((o) => o.status === 'failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].status === 'failed' && failed[0].failure.message, 'disk full');
  });

  it('continues as new in the middle of a batch and keeps every outcome', async () => {
    const config = isolatedConfig();
    const acts = standIns();
    const { result, firstRunId, lastRunId } = await withWorkers(env, config, acts, async () => {
      const handle = await env.client.workflow.start(thumbnailer, {
        taskQueue: config.queues.workflow,
        workflowId: 'long-batch',
        args: [thumbnailerInput(config, { items: items(7), itemsPerExecution: 3 })],
      });
      const result = await handle.result();
      const last = await env.client.workflow.getHandle(handle.workflowId).describe();
      return { result, firstRunId: handle.firstExecutionRunId, lastRunId: last.runId };
    });
    assert.notEqual(firstRunId, lastRunId, 'the run continued as new');
    assert.equal(result.progress.total, 7);
    assert.equal(result.progress.succeeded, 7);
    assert.equal(new Set(result.outcomes.map((o) => o.itemId)).size, 7);
    assert.equal(acts.calls.extract.length, 7, 'no item processed twice across executions');
  });
});
