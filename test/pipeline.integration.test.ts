/**
 * Pipeline reliability on the real dev server (fairness matcher on, see
 * docs/priority-and-fairness.md): dead letters listed and redriven at low priority, new work
 * overtaking a backlog of redriven work, one shard's outage delaying only its own items, and
 * merged sources served fairly; every item's line in the run's results parts, failures grouped.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { stageActivity } from '../src/activities/pipeline/stage-activity';
import { stageActivities } from '../src/activities/pipeline';
import { readItemsPage, readResultLines, resultsParts, writeResultsPart } from '../src/activities/pipeline/results';
import type { ResultLine } from '../src/activities/pipeline/results-types';
import { listDeadLetters, redriveDeadLetters } from '../src/client/dead-letters';
import { startPipelineRun } from '../src/client/pipeline-run';
import { PRIORITY_REDRIVE } from '../src/core/priorities';
import type { BatchConfig } from '../src/infra/config';
import { BatchShards } from '../src/core/search-attributes';
import type { PipelineItem, PipelineSpec } from '../src/pipelines/spec';
import { dataDir } from '../src/infra/paths';
import { waitFor } from '../src/infra/wait';
import { autoHeartbeat } from '../src/workers/auto-heartbeat';
import { activityBacklog } from '../src/workers/work-stealer';
import { mergeSources } from '../src/workflows/patterns/merger';
import { shardOf } from '../src/workflows/patterns/sharder';
import { pipelineProgressQuery } from '../src/workflows/pipeline';
import { isolatedConfig } from './support/config';
import { sharedDevServer, sharedWorkflowBundle } from './support/servers';

/** Starts a worker now; returns a function that stops it. */
async function startWorker(
  env: TestWorkflowEnvironment,
  options: Omit<Parameters<typeof Worker.create>[0], 'connection'>,
) {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    interceptors: { activity: [autoHeartbeat] },
    ...options,
  });
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
  };
}

/** A `noop` stage that records the order items run in, and fails while `outage.on`. */
function recordingNoop(order: string[], outage = { on: false }) {
  return stageActivity(async (item) => {
    if (outage.on) throw ApplicationFailure.retryable(`downstream service unavailable for ${item.id}`, 'Unavailable');
    order.push(item.id);
    return item.data;
  });
}

const items = (prefix: string, n: number, extra: Record<string, unknown> = {}): PipelineItem[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, data: { n: i, ...extra } }));

/** The workflow worker of a test's queues. */
async function startWorkflowWorker(env: TestWorkflowEnvironment, config: BatchConfig) {
  return startWorker(env, { taskQueue: config.queues.workflow, workflowBundle: await sharedWorkflowBundle() });
}

/** Waits until the stage queue holds at least `count` activity tasks (no stage worker yet). */
function waitForBacklog(env: TestWorkflowEnvironment, config: BatchConfig, count: number, what: string) {
  return waitFor(
    what,
    async () => (await activityBacklog(env.client, 'default', config.queues.stages)) >= count,
    30_000,
  );
}

/** One stage worker with one slot, recording the order items run in: the server's dispatch order. */
function startOneSlotRecorder(env: TestWorkflowEnvironment, config: BatchConfig, order: string[]) {
  return startWorker(env, {
    taskQueue: config.queues.stages,
    activities: { ...stageActivities, noop: recordingNoop(order) },
    maxConcurrentActivityTaskExecutions: 1,
  });
}

describe('pipelines on the dev server', function () {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await sharedDevServer();
  });

  it('lists dead letters and redrives them at a lower priority, once', async () => {
    const config = isolatedConfig(env.address);
    const spec: PipelineSpec = {
      name: 'dlq',
      start: 'prepare',
      stages: {
        prepare: { kind: 'activity', activity: 'annotate', batchSize: 4, next: 'deliver' },
        deliver: {
          kind: 'activity',
          activity: 'noop',
          batchSize: 4,
          retry: { initialInterval: '100 ms', maximumAttempts: 2 },
          next: 'done',
        },
        done: { kind: 'reduce' },
      },
    };
    const order: string[] = [];
    const outage = { on: true };
    const stopWorkflows = await startWorkflowWorker(env, config);
    const stopStages = await startWorker(env, {
      taskQueue: config.queues.stages,
      activities: { ...stageActivities, noop: recordingNoop(order, outage) },
    });
    try {
      const handle = await startPipelineRun(env.client, config, spec, { items: items('mail', 4) }, { runName: 'r1' });
      const result = await handle.result();
      assert.equal(result.deadLettered, 4);
      const letters = await listDeadLetters(env.client, handle.workflowId);
      assert.deepEqual(letters.map((l) => [l.itemId, l.stage, l.attempts, l.error.type]).sort(), [
        ['mail-0', 'deliver', 2, 'Unavailable'],
        ['mail-1', 'deliver', 2, 'Unavailable'],
        ['mail-2', 'deliver', 2, 'Unavailable'],
        ['mail-3', 'deliver', 2, 'Unavailable'],
      ]);
      assert.deepEqual(letters[0].input.data.trail, ['prepare'], 'the input as it reached the failed stage');

      outage.on = false; // the downstream service is back
      const [redrive] = await redriveDeadLetters(env.client, config, handle.workflowId);
      assert.equal(redrive.workflowId, 'dlq/r1-redrive-deliver');
      const description = await redrive.describe();
      assert.equal(description.raw.workflowExecutionInfo?.priority?.priorityKey, PRIORITY_REDRIVE);
      const redone = await redrive.result();
      assert.equal(redone.completed, 4);
      assert.equal(redone.stages.prepare.entered, 0, 'entered at the failed stage');
      assert.deepEqual([...order].sort(), ['mail-0', 'mail-1', 'mail-2', 'mail-3']);
      const again = await redriveDeadLetters(env.client, config, handle.workflowId);
      assert.equal((await again[0].describe()).runId, description.runId, 'a second redrive starts nothing new');
    } finally {
      await stopStages();
      await stopWorkflows();
    }
  });

  it('new work overtakes a backlog of redriven work (priority keys)', async () => {
    const config = isolatedConfig(env.address);
    const spec: PipelineSpec = {
      name: 'prio',
      start: 'work',
      concurrency: 50,
      stages: { work: { kind: 'activity', activity: 'noop' } },
    };
    const order: string[] = [];
    const stopWorkflows = await startWorkflowWorker(env, config);
    let stopStages: () => Promise<void> = async () => undefined;
    try {
      const old = await startPipelineRun(
        env.client,
        config,
        spec,
        { items: items('redrive', 15) },
        { runName: 'backlog', priority: PRIORITY_REDRIVE },
      );
      await waitForBacklog(env, config, 15, 'the redrive backlog');
      const fresh = await startPipelineRun(env.client, config, spec, { items: items('new', 5) }, { runName: 'fresh' });
      await waitForBacklog(env, config, 20, 'the new work queued');
      stopStages = await startOneSlotRecorder(env, config, order);
      await Promise.all([old.result(), fresh.result()]);
      const firstFive = order.slice(0, 5);
      assert.deepEqual(
        [...firstFive].sort(),
        ['new-0', 'new-1', 'new-2', 'new-3', 'new-4'],
        `order: ${order.join(' ')}`,
      );
    } finally {
      await stopStages();
      await stopWorkflows();
    }
  });

  it('one shard down delays only its own items; they finish when it is back', async () => {
    const config = isolatedConfig(env.address);
    const queue = `iso-${config.queues.stages}`;
    const shardStage = { key: '$id', shards: 3 };
    const spec: PipelineSpec = {
      name: 'shards',
      start: 'verify',
      // Fewer call slots than the dead shard has items: its items must not take the others' slots.
      concurrency: 2,
      stages: {
        verify: { kind: 'shard', ...shardStage, activity: 'annotate', queue, next: 'done' },
        done: { kind: 'reduce' },
      },
    };
    const all = items('user', 12);
    const onShard1 = all.filter((item) => shardOf(shardStage, item) === 1).length;
    assert.ok(onShard1 > 2 && onShard1 < all.length, `shard 1 holds ${onShard1} items`);
    const stops = [await startWorkflowWorker(env, config)];
    try {
      for (const k of [0, 2])
        stops.push(await startWorker(env, { taskQueue: `${queue}-shard-${k}`, activities: stageActivities }));
      const handle = await startPipelineRun(env.client, config, spec, { items: all }, { runName: 'outage' });
      const partition = env.client.workflow.getHandle(`${handle.workflowId}/p0`);
      await waitFor(
        'the healthy shards to finish',
        async () =>
          (await partition.query(pipelineProgressQuery).catch(() => undefined))?.completed === all.length - onShard1,
        30_000,
      );
      const during = await partition.query(pipelineProgressQuery);
      assert.equal(during.running, onShard1, 'shard 1 items wait');
      const touched = (await partition.describe()).typedSearchAttributes.get(BatchShards);
      assert.deepEqual(
        [...(touched ?? [])].sort(),
        [0, 1, 2].map((k) => `${queue}-shard-${k}`),
        'findable by shard',
      );
      stops.push(await startWorker(env, { taskQueue: `${queue}-shard-1`, activities: stageActivities }));
      const result = await handle.result();
      assert.equal(result.completed, all.length);
    } finally {
      for (const stop of stops.reverse()) await stop();
    }
  });

  it('merges sources, processes a repeated item once, and serves a quiet source next to a busy one', async () => {
    const config = isolatedConfig(env.address);
    const merged = mergeSources([
      { origin: 'busy', items: items('busy', 30) },
      { origin: 'quiet', items: [...items('quiet', 5), { id: 'busy-3', data: {} }] },
    ]);
    assert.equal(merged.duplicates, 1);
    assert.equal(merged.items.length, 35);
    // The busy source's items are all submitted first: the worst case for the quiet one.
    const ordered = [...merged.items].sort((a, b) => (a.origin === b.origin ? 0 : a.origin === 'busy' ? -1 : 1));
    const spec: PipelineSpec = {
      name: 'merge',
      start: 'build',
      concurrency: 100,
      stages: { build: { kind: 'activity', activity: 'noop' } },
    };
    const order: string[] = [];
    const stopWorkflows = await startWorkflowWorker(env, config);
    let stopStages: () => Promise<void> = async () => undefined;
    try {
      const handle = await startPipelineRun(env.client, config, spec, { items: ordered }, { runName: 'fair' });
      await waitForBacklog(env, config, 35, 'the backlog');
      stopStages = await startOneSlotRecorder(env, config, order);
      const result = await handle.result();
      assert.equal(result.completed, 35);
      const quietPositions = order.map((id, i) => (id.startsWith('quiet') ? i : -1)).filter((i) => i >= 0);
      assert.equal(quietPositions.length, 5);
      assert.ok(Math.max(...quietPositions) < 15, `quiet items ran at ${quietPositions.join(', ')} of 35`);
    } finally {
      await stopStages();
      await stopWorkflows();
    }
  });
  it("writes every item's line to results parts and groups the failures by reason", async () => {
    const config = isolatedConfig(env.address);
    const spec: PipelineSpec = {
      name: 'results',
      start: 'keep',
      partitionSize: 5,
      stages: {
        keep: { kind: 'filter', where: { not: { field: 'drop', op: 'eq', value: true } }, next: 'work' },
        work: { kind: 'activity', activity: 'fail-when', batchSize: 4, next: 'mark' },
        mark: { kind: 'activity', activity: 'annotate', next: 'done' },
        done: { kind: 'reduce' },
      },
    };
    const all = [...items('drop', 3, { drop: true }), ...items('bad', 3, { fail: 'invalid' }), ...items('ok', 6)];
    const runName = `parts-${Date.now()}`;
    const stops = [
      await startWorkflowWorker(env, config),
      await startWorker(env, { taskQueue: config.queues.stages, activities: stageActivities }),
    ];
    try {
      const handle = await startPipelineRun(env.client, config, spec, { items: all }, { runName });
      const result = await handle.result();
      const summary = result.results;
      assert.ok(summary, 'the result points to the results');
      const parts = await resultsParts(summary.dir);
      assert.deepEqual(
        parts.map((p) => p.slice(summary.dir.length + 1)),
        ['part-00000.jsonl', 'part-00001.jsonl', 'part-00002.jsonl'],
      );
      const lines: ResultLine[] = [];
      for await (const line of readResultLines(summary.dir)) lines.push(line);
      const byId = new Map(lines.map((l) => [l.id, l]));
      assert.equal(lines.length, all.length, 'one line per item');
      assert.deepEqual(byId.get('drop-1'), { id: 'drop-1', status: 'dropped', stage: 'keep' });
      const bad = byId.get('bad-2')!;
      assert.deepEqual(
        [bad.status, bad.stage, bad.error?.type, bad.error?.message],
        ['deadLettered', 'work', 'InvalidInput', 'item bad-2 is invalid'],
      );
      assert.deepEqual(bad.input, { id: 'bad-2', data: { n: 2, fail: 'invalid' } }, 'the input, for a redrive');
      const ok = byId.get('ok-4')!;
      assert.deepEqual([ok.status, ok.stage, ok.data?.trail], ['completed', 'done', ['mark']]);
      assert.deepEqual(summary.counts, { completed: 6, dropped: 3, deadLettered: 3 });
      assert.deepEqual(
        summary.failureGroups.map((g) => [g.stage, g.type, g.pattern, g.count, [...g.examples].sort()]),
        [['work', 'InvalidInput', 'item <id> is invalid', 3, ['bad-0', 'bad-1', 'bad-2']]],
      );
    } finally {
      for (const stop of stops.reverse()) await stop();
    }
  });
  it('passes many items by reference and lists every dead letter from the results parts, past the 20 kept inline', async () => {
    const config = isolatedConfig(env.address);
    const spec: PipelineSpec = {
      name: 'many-letters',
      start: 'work',
      partitionSize: 50,
      stages: { work: { kind: 'activity', activity: 'fail-when', batchSize: 10 } },
    };
    const all = items('bad', 150, { fail: 'invalid', note: 'x'.repeat(500) });
    const stops = [
      await startWorkflowWorker(env, config),
      await startWorker(env, { taskQueue: config.queues.stages, activities: stageActivities }),
    ];
    try {
      const handle = await startPipelineRun(
        env.client,
        config,
        spec,
        { items: all },
        { runName: `many-${Date.now()}` },
      );
      const result = await handle.result();
      assert.equal(result.deadLettered, 150);
      assert.ok(result.deadLetters.length <= 20, `${result.deadLetters.length} inline`);
      const history = await handle.fetchHistory();
      const started = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0].data!;
      assert.ok(started.length < 10_000, `the run's input is a manifest, not 150 items: ${started.length} bytes`);
      const letters = await listDeadLetters(env.client, handle.workflowId);
      assert.equal(letters.length, 150, 'every dead letter, from the results parts');
      assert.deepEqual(new Set(letters.map((l) => l.itemId)), new Set(all.map((i) => i.id)));
      assert.equal(letters[0].input.data.note, 'x'.repeat(500), 'with its input, for a redrive');
    } finally {
      for (const stop of stops.reverse()) await stop();
    }
  });
  it("writes results parts only inside the run's results folder, whatever a workflow input names", async () => {
    const line = { id: 'a', status: 'completed' as const, stage: 's' };
    const call = { pipeline: 'p', run: 'r', part: 'part-00000', chunk: 0, chunks: 1, lines: [line] };
    for (const bad of [
      { part: '../../../tmp/x' },
      { part: 'part-00000/../../y' },
      { run: '..' },
      { pipeline: 'a/b' },
    ]) {
      await assert.rejects(writeResultsPart({ ...call, ...bad }), (error: Error) => {
        assert.match(error.message, /part-NNNNN|cannot be used as a folder name/);
        return true;
      });
    }
  });

  it("reads item manifests only from the data folder's inputs, whatever a workflow input names", async () => {
    for (const file of ['/etc/passwd', path.join(dataDir, 'inputs', '..', 'api-token'), 'relative.jsonl']) {
      await assert.rejects(readItemsPage({ path: file, from: 0, count: 10 }), (error: Error) => {
        assert.match(error.message, /must be a run's items\.jsonl under /);
        return true;
      });
    }
  });
});
