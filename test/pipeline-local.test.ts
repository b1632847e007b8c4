/**
 * The pipeline engine's cost per item (issue 12): `local: true` stages run as local activities on
 * the workflow worker, and the engine walks items without a promise per item (the SDK records a
 * stack trace for every promise made in workflow code, which was most of its CPU per item).
 * Real dev server, real workers (createWorkers, as `npm start` makes them).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { startPipelineRun } from '../src/client/pipeline-run';
import type { PipelineSpec } from '../src/pipelines/spec';
import { PipelineSpecError, validatePipelineSpec } from '../src/pipelines/validate';
import { createWorkers } from '../src/workers/create-workers';
import { isolatedConfig } from './support/config';
import { sharedDevServer, sharedWorkflowBundle } from './support/servers';

const noopSpec = (name: string, batchSize: number, local: boolean): PipelineSpec => ({
  name,
  start: 'work',
  partitionSize: 1000,
  stages: { work: { kind: 'activity', activity: 'noop', batchSize, ...(local ? { local: true } : {}) } },
});

function specProblem(spec: unknown): string {
  try {
    validatePipelineSpec(spec as PipelineSpec);
  } catch (error) {
    if (error instanceof PipelineSpecError) return error.message;
    throw error;
  }
  return '';
}

describe('pipeline engine: local stages and cost per item', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let bundlePath: string;
  const config = isolatedConfig();
  let workers: Worker[] = [];
  let running: Promise<void>[] = [];

  before(async () => {
    env = await sharedDevServer();
    bundlePath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-local-')), 'workflow-bundle.js');
    fs.writeFileSync(bundlePath, (await sharedWorkflowBundle()).code);
    workers = await createWorkers({
      connection: env.nativeConnection,
      config,
      roles: ['workflows', 'stages'],
      workflowBundlePath: bundlePath,
      identity: 'pipeline-local-test',
    });
    running = workers.map((w) => w.run());
  });

  after(async () => {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    fs.rmSync(path.dirname(bundlePath), { recursive: true, force: true });
  });

  async function run(spec: PipelineSpec, count: number, runName: string) {
    const handle = await startPipelineRun(env.client, config, spec, { generate: { count } }, { runName });
    const result = await handle.result();
    const partition = await env.client.workflow.getHandle(`${handle.workflowId}/p0`).fetchHistory();
    return { result, partition };
  }

  it('runs a local: true stage as local activities on the workflow worker: every item done, a marker per call, no activity task', async () => {
    const { result, partition } = await run(noopSpec('local-noop', 1, true), 12, 'local-1');
    assert.equal(result.completed, 12);
    assert.equal(result.deadLettered, 0);
    const events = partition.events ?? [];
    const noopTasks = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'noop',
    ).length;
    assert.equal(noopTasks, 0, 'no noop activity task went through a task queue');
    const localCalls = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
    assert.equal(localCalls.length, 12, 'one local activity marker per item (batchSize 1)');
  });

  it('walks items without a promise per item: promises made on replay grow by less than one per item', async () => {
    const small = await run(noopSpec('walk-cost', 100, false), 100, 'small');
    const large = await run(noopSpec('walk-cost', 100, false), 1000, 'large');
    assert.equal(large.result.completed, 1000);
    const bundle = await sharedWorkflowBundle();
    const promisesOnReplay = async (history: typeof small.partition, workflowId: string) => {
      let made = 0;
      const stop = v8.promiseHooks.onInit(() => {
        made += 1;
      });
      try {
        await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
      } finally {
        stop();
      }
      return made;
    };
    const a = await promisesOnReplay(small.partition, 'walk-cost/small/p0');
    const b = await promisesOnReplay(large.partition, 'walk-cost/large/p0');
    const perItem = (b - a) / 900;
    // The awaited walk made 5–6 per item (walk, enqueue, awaits, the results line, Promise.all).
    assert.ok(
      perItem < 1,
      `the engine made ${perItem.toFixed(2)} promises per item (${a} for 100 items, ${b} for 1000)`,
    );
  });

  it('answers items a stage left unchanged without their data (no second copy in history), and keeps the data', async () => {
    const spec: PipelineSpec = {
      name: 'keeps-unchanged',
      start: 'pass',
      partitionSize: 1000,
      stages: {
        pass: { kind: 'activity', activity: 'noop', batchSize: 10, next: 'mark' },
        mark: { kind: 'activity', activity: 'annotate', batchSize: 10 },
      },
    };
    const items = Array.from({ length: 10 }, (_, n) => ({ id: `i${n}`, data: { n, note: 'x'.repeat(100) } }));
    const handle = await startPipelineRun(env.client, config, spec, { items }, { runName: 'echo' });
    const result = await handle.result();
    assert.equal(result.completed, 10);
    const history = await env.client.workflow.getHandle(`${handle.workflowId}/p0`).fetchHistory();
    const answers = new Map<string, Array<{ id: string; ok: boolean; data?: Record<string, unknown> }>>();
    const scheduled = new Map<string, string>();
    for (const e of history.events ?? []) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
      const c = e.activityTaskCompletedEventAttributes;
      if (c) {
        const payload = c.result?.payloads?.[0]?.data;
        answers.set(scheduled.get(String(c.scheduledEventId))!, JSON.parse(Buffer.from(payload!).toString()));
      }
    }
    assert.deepEqual(
      answers.get('noop'),
      items.map((i) => ({ id: i.id, ok: true })),
      'noop: ids only',
    );
    const marked = answers.get('annotate')!;
    assert.deepEqual(marked[3], { id: 'i3', ok: true, data: { n: 3, note: 'x'.repeat(100), trail: ['mark'] } });
  });

  it('refuses local with a task queue or on a shard stage, saying what to do', () => {
    const withQueue = specProblem({
      name: 'x',
      start: 'work',
      stages: { work: { kind: 'activity', activity: 'noop', local: true, taskQueue: 'elsewhere' } },
    });
    assert.match(withQueue, /stages\.work\.local.*remove "taskQueue", or remove "local"/);
    const onShard = specProblem({
      name: 'x',
      start: 'work',
      stages: { work: { kind: 'shard', key: '$id', shards: 2, queue: 'q', activity: 'noop', local: true } },
    });
    assert.match(onShard, /stages\.work\.local.*remove "local", or make it an activity stage without shards/);
    assert.match(
      specProblem({ name: 'x', start: 'work', stages: { work: { kind: 'activity', activity: 'noop', local: 'yes' } } }),
      /stages\.work\.local.*must be true or false/,
    );
    assert.equal(specProblem(noopSpec('fine', 1, true)), '');
  });
});
