/**
 * Work stealing for stragglers on the real dev server: the worker of shard 0 of a 2-shard stage,
 * idle, steals shard 1's backlog (shard 1 has no worker of its own), stops stealing as soon as
 * its own queue has a backlog again, and resumes once its own work is done.
 */
import assert from 'node:assert/strict';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { stageActivities } from '../src/activities/pipeline';
import type { StageCall } from '../src/activities/pipeline/types';
import { startPipelineRun } from '../src/client/pipeline-run';
import type { PipelineItem, PipelineSpec } from '../src/pipelines/spec';
import { waitFor } from '../src/infra/wait';
import { autoHeartbeat } from '../src/workers/auto-heartbeat';
import { parseSteal, stealPlan } from '../src/workers/steal-option';
import { StealEvent, WorkStealer } from '../src/workers/work-stealer';
import { shardOf, shardQueue } from '../src/workflows/patterns/sharder';
import { isolatedConfig } from './support/config';
import { sharedDevServer, sharedWorkflowBundle } from './support/servers';

describe('--steal option', () => {
  it('parses queue:shards:own and plans own and sibling queues', () => {
    assert.equal(parseSteal(undefined), undefined);
    assert.equal(parseSteal(''), undefined);
    const option = parseSteal('signup-enrich:3:0');
    assert.deepEqual(option, { queue: 'signup-enrich', shards: 3, own: 0 });
    assert.deepEqual(stealPlan(option!), {
      own: 'signup-enrich-shard-0',
      siblings: ['signup-enrich-shard-1', 'signup-enrich-shard-2'],
    });
    assert.deepEqual(stealPlan(parseSteal(' q.v2:2:1 ')!), { own: 'q.v2-shard-1', siblings: ['q.v2-shard-0'] });
  });

  it('rejects bad input with the expected form', () => {
    for (const bad of ['signup-enrich', 'signup-enrich:3', 'signup-enrich#1', 'a b:3:0', 'q:3:x', 'q:3:0:1'])
      assert.throws(() => parseSteal(bad), /--steal ".*": write queue:shards:own, e\.g\. signup-enrich:3:0/, bad);
    assert.throws(() => parseSteal('q:3:3'), /own must be a shard number from 0 to 2/);
    assert.throws(() => parseSteal('q:1:0'), /shards must be at least 2/);
  });
});

describe('work stealing on the dev server', function () {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await sharedDevServer();
  });

  it('an idle shard worker steals a sibling backlog and stops when its own queue has work', async function () {
    this.timeout(90_000);
    const config = isolatedConfig(env.address);
    const queue = `steal-${config.queues.stages}`;
    const shardStage = { key: '$id', shards: 2 };
    const spec: PipelineSpec = {
      name: 'steal',
      start: 'enrich',
      concurrency: 100, // every item's task is scheduled at once: shard 1's backlog is all its items
      stages: {
        enrich: { kind: 'shard', ...shardStage, activity: 'sleep', queue, batchSize: 1, next: 'done' },
        done: { kind: 'reduce' },
      },
    };
    // Shard 1's items are slower: the stolen backlog lasts ~10 s at one slot, long enough for the
    // second phase to begin while it is being stolen.
    const item = (id: string): PipelineItem => {
      const slow = shardOf(shardStage, { id, data: {} }) === 1;
      return { id, data: { sleepMs: slow ? 500 : 300 } };
    };
    const mixed = Array.from({ length: 40 }, (_, i) => item(`user-${i}`));
    const onShard1 = mixed.filter((it) => shardOf(shardStage, it) === 1).map((it) => it.id);
    assert.ok(onShard1.length >= 8 && onShard1.length <= 32, `${onShard1.length} of 40 items on shard 1`);
    const ownOnly = Array.from({ length: 40 }, (_, i) => item(`own-${i}`))
      .filter((it) => shardOf(shardStage, it) === 0)
      .slice(0, 10);

    // What the stealing worker ran, and how each stolen task ended.
    const stolen: string[] = [];
    const stolenFailures: string[] = [];
    const stealActivities = {
      ...stageActivities,
      sleep: async (call: StageCall) => {
        try {
          const results = await stageActivities.sleep(call);
          stolen.push(...call.items.map((it) => it.id));
          return results;
        } catch (error) {
          stolenFailures.push(`${call.items[0]?.id}: ${error instanceof Error ? error.message : error}`);
          throw error;
        }
      },
    };
    const lines: string[] = [];
    const events: StealEvent[] = [];
    const plan = { own: shardQueue(queue, 0), siblings: [shardQueue(queue, 0), shardQueue(queue, 1)] };
    const stealer = new WorkStealer({
      connection: env.nativeConnection,
      client: env.client,
      namespace: config.namespace,
      ...plan,
      activities: stealActivities,
      intervalMs: 300,
      log: (line) => lines.push(line),
      onEvent: (event) => events.push(event),
      // One slot: the stolen backlog drains slowly, so the second phase starts while stealing.
      workerOptions: { maxConcurrentActivityTaskExecutions: 1 },
    });
    const workers = await Promise.all([
      Worker.create({
        connection: env.nativeConnection,
        namespace: config.namespace,
        taskQueue: config.queues.workflow,
        workflowBundle: await sharedWorkflowBundle(),
      }),
      // Shard 0's own worker, two slots: ten own items at once leave a backlog on its queue.
      Worker.create({
        connection: env.nativeConnection,
        namespace: config.namespace,
        taskQueue: plan.own,
        activities: stageActivities,
        interceptors: { activity: [autoHeartbeat] },
        maxConcurrentActivityTaskExecutions: 2,
      }),
    ]);
    const running = workers.map((w) => w.run());
    stealer.start();
    const shard1 = shardQueue(queue, 1);
    try {
      // Phase 1: items on both shards; nobody serves shard 1 but the stealer.
      const mixedRun = await startPipelineRun(env.client, config, spec, { items: mixed }, { runName: 'mixed' });
      await waitFor(
        'shard 0 stealing from shard 1',
        async () => stealer.currentTarget() === shard1 && stolen.length > 0,
        30_000,
      );
      const firstSteal = events.find((e) => e.type === 'steal');
      assert.ok(firstSteal?.type === 'steal', lines.join('\n'));
      assert.equal(firstSteal.target, shard1);
      assert.equal(firstSteal.ownBacklog, 0);
      assert.ok(firstSteal.targetBacklog > 0, `stole at backlog ${firstSteal.targetBacklog}`);

      // Phase 2: own work arrives while stealing: the stealer gives way to it.
      const phase2 = events.length;
      const ownRun = await startPipelineRun(env.client, config, spec, { items: ownOnly }, { runName: 'own' });
      await waitFor(
        'stealing to stop for own work',
        async () => events.slice(phase2).some((e) => e.type === 'stop' && e.reason === 'own-backlog'),
        30_000,
      );
      const stop = events.slice(phase2).find((e) => e.type === 'stop' && e.reason === 'own-backlog');
      assert.ok(stop?.type === 'stop' && stop.target === shard1 && (stop.ownBacklog ?? 0) > 0, JSON.stringify(stop));
      assert.notEqual(stealer.currentTarget(), shard1, 'no longer stealing');
      const ownResult = await ownRun.result();
      assert.equal(ownResult.completed, ownOnly.length);
      assert.ok(
        ownOnly.every((it) => !stolen.includes(it.id)),
        'own items ran on the own worker',
      );

      // Own work done: the stealer resumes, and the mixed run finishes on stolen work alone.
      const mixedResult = await mixedRun.result();
      assert.equal(mixedResult.completed, mixed.length);
      const stopIndex = events.indexOf(stop);
      assert.ok(
        events.slice(stopIndex + 1).some((e) => e.type === 'steal' && e.target === shard1),
        'resumed stealing after own work',
      );
      assert.deepEqual([...new Set(stolen)].sort(), [...onShard1].sort(), 'every shard-1 item was stolen, no other');
      await waitFor(
        'stealing to stop once shard 1 is drained',
        async () => stealer.currentTarget() === undefined && events.at(-1)?.type === 'stop',
        15_000,
      );
      const last = events.at(-1);
      assert.ok(last?.type === 'stop' && last.reason === 'sibling-drained', JSON.stringify(last));
      assert.ok(
        lines.some((l) => l.includes(`stealing from ${shard1} (backlog `)),
        lines.join('\n'),
      );
      assert.ok(
        lines.some((l) => l.includes(`stop stealing ${shard1}: own backlog `)),
        lines.join('\n'),
      );
      assert.deepEqual(stealer.events, events);
      assert.deepEqual(stolenFailures, [], 'stolen tasks in flight finish when stealing stops');
    } catch (error) {
      console.error(`      stealer log:\n${lines.map((l) => `        ${l}`).join('\n')}`);
      throw error;
    } finally {
      await stealer.stop();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.all(running);
    }
    assert.equal(stealer.currentTarget(), undefined);
  });
});
