/**
 * The pipeline interpreter and its patterns on the time-skipping server, with the real built-in
 * stage activities: filter, splitter, copier (all and race), sharder, join, reduce, partitions,
 * dead letters with retry counts, backoff in skipped time, tolerated failure percentage.
 */
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PipelineItem, PipelineSpec } from '../src/pipelines/spec';
import { pipelinePartition, pipelineRun, PipelineRunInput, PipelineRunResult } from '../src/workflows/pipeline';
import { isolatedConfig } from './support/config';
import { withPipelineWorkers } from './support/pipeline-workers';
import { channelSplit, runJoinSpec } from './support/pipeline-specs';
import { createTimeSkippingServer } from './support/servers';

const users = (n: number): PipelineItem[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `user-${i}`,
    data: { optIn: i % 2 === 0, channel: i % 3 === 0 ? 'sms' : i % 3 === 1 ? 'email' : 'pigeon', bytes: i },
  }));

describe('pipeline interpreter (time-skipping server)', function () {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTimeSkippingServer();
  });
  after(async () => {
    await env?.teardown();
  });

  async function run(
    spec: PipelineSpec,
    source: PipelineRunInput['source'],
    extraQueues: string[] = [],
    id = spec.name,
  ) {
    const config = isolatedConfig();
    return withPipelineWorkers(env, config, extraQueues, () =>
      env.client.workflow.execute(pipelineRun, {
        taskQueue: config.queues.workflow,
        workflowId: `${id}/run`,
        args: [
          { spec, run: 'run', source, queues: { workflow: config.queues.workflow, activity: config.queues.stages } },
        ],
      }),
    );
  }

  it('filter drops and counts, splitter routes every item exactly once, reduce totals them', async () => {
    const spec: PipelineSpec = {
      name: 'filter-split',
      start: 'opted-in',
      stages: {
        'opted-in': { kind: 'filter', where: { field: 'optIn', op: 'eq', value: true }, next: 'route' },
        route: channelSplit,
        email: { kind: 'activity', activity: 'annotate', batchSize: 4, next: 'total' },
        sms: { kind: 'activity', activity: 'annotate', batchSize: 4, next: 'total' },
        other: { kind: 'activity', activity: 'noop', next: 'total' },
        total: { kind: 'reduce', sum: ['bytes'], histogram: ['channel', 'trail'] },
      },
    };
    const items = users(12);
    const result: PipelineRunResult = await run(spec, { items });
    const kept = items.filter((u) => u.data.optIn);
    assert.equal(result.total, 12);
    assert.equal(result.dropped, 6);
    assert.equal(result.stages['opted-in'].dropped, 6);
    assert.equal(result.completed, 6);
    const byChannel = (c: string) => kept.filter((u) => u.data.channel === c).length;
    assert.equal(result.stages.email.entered, byChannel('email'));
    assert.equal(result.stages.sms.entered, byChannel('sms'));
    assert.equal(result.stages.other.entered, byChannel('pigeon'));
    assert.equal(result.reduce.total.count, kept.length);
    assert.equal(
      result.reduce.total.sums.bytes,
      kept.reduce((n, u) => n + (u.data.bytes as number), 0),
    );
    assert.deepEqual(result.reduce.total.histograms.trail, {
      email: byChannel('email'),
      sms: byChannel('sms'),
      '(missing)': byChannel('pigeon'),
    });
  });

  it('copier `all` runs every branch as its own child workflow', async () => {
    const spec: PipelineSpec = {
      name: 'copy-all',
      start: 'copy',
      stages: {
        copy: { kind: 'copy', to: ['welcome', 'notify'] },
        welcome: { kind: 'activity', activity: 'annotate', next: 'welcomed' },
        notify: { kind: 'activity', activity: 'annotate', next: 'notified' },
        welcomed: { kind: 'reduce' },
        notified: { kind: 'reduce' },
      },
    };
    const result = await run(spec, { items: users(5) });
    assert.equal(result.completed, 5);
    assert.equal(result.reduce.welcomed.count, 5);
    assert.equal(result.reduce.notified.count, 5);
    for (const branch of ['welcome', 'notify']) {
      const child = await env.client.workflow.getHandle(`copy-all/run/p0/copy-1/${branch}`).describe();
      assert.equal(child.status.name, 'COMPLETED');
      assert.equal(child.parentExecution?.workflowId, 'copy-all/run/p0');
    }
  });

  it('copier `race` takes the fastest branch and cancels the others', async () => {
    const spec: PipelineSpec = {
      name: 'copy-race',
      start: 'copy',
      stages: {
        copy: { kind: 'copy', to: ['slow', 'fast'], mode: 'race' },
        slow: { kind: 'activity', activity: 'sleep', next: 'slow-done' },
        fast: { kind: 'activity', activity: 'noop', next: 'fast-done' },
        'slow-done': { kind: 'reduce' },
        'fast-done': { kind: 'reduce' },
      },
    };
    // Activities run in real time even on the time-skipping server: 30 s is slow enough; the
    // winner cancels it long before.
    const items = users(3).map((u) => ({ ...u, data: { ...u.data, sleepMs: 30_000 } }));
    const result = await run(spec, { items });
    assert.equal(result.reduce['fast-done'].count, 3);
    assert.equal(result.reduce['slow-done'], undefined, 'the slow branch did not finish');
    const slow = await env.client.workflow.getHandle('copy-race/run/p0/copy-1/slow').describe();
    assert.equal(slow.status.name, 'CANCELLED');
  });

  it('sharder sends each item to the task queue of its shard, stably by key', async () => {
    const spec: PipelineSpec = {
      name: 'shard',
      start: 'verify',
      stages: {
        verify: {
          kind: 'shard',
          key: '$id',
          shards: 3,
          activity: 'annotate',
          queue: 'shard-test',
          batchSize: 2,
          next: 'count',
        },
        count: { kind: 'reduce', histogram: ['trail'] },
      },
    };
    const result = await run(spec, { items: users(9) }, [
      'shard-test-shard-0',
      'shard-test-shard-1',
      'shard-test-shard-2',
    ]);
    assert.equal(result.completed, 9);
    assert.equal(result.reduce.count.count, 9);
  });

  it('join holds every item until all have arrived, then the next stage runs', async () => {
    const spec: PipelineSpec = {
      name: 'join',
      start: 'work',
      stages: {
        work: { kind: 'activity', activity: 'sleep', next: 'barrier' },
        barrier: { kind: 'join', next: 'after' },
        after: { kind: 'activity', activity: 'annotate', batchSize: 10, next: 'count' },
        count: { kind: 'reduce' },
      },
    };
    const items = users(6).map((u, i) => ({ ...u, data: { ...u.data, sleepMs: (i + 1) * 150 } }));
    const result = await run(spec, { items });
    assert.equal(result.reduce.count.count, 6);
    const history = await env.client.workflow.getHandle('join/run/p0').fetchHistory();
    const events = history.events ?? [];
    const scheduled = (type: string) =>
      events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type)
        .map((e) => Number(e.eventId));
    const lastWorkDone = Math.max(
      ...events
        .filter((e) => e.activityTaskCompletedEventAttributes)
        .map((e) => Number(e.eventId))
        .filter((id) => id < Math.min(...scheduled('annotate'))),
    );
    assert.equal(scheduled('sleep').length, 6);
    assert.equal(scheduled('annotate').length, 1, 'all six items passed the join together, in one batch');
    assert.ok(Math.min(...scheduled('annotate')) > lastWorkDone);
  });

  it('a join is a barrier across all partitions of the run', async () => {
    // Partition 2 is the straggler: its items take longest.
    const items = users(9).map((u, i) => ({ ...u, data: { ...u.data, sleepMs: i >= 6 ? 1500 : 50 } }));
    const result = await run(runJoinSpec(3, 10), { items });
    assert.equal(result.partitions, 3);
    assert.equal(result.reduce.done.count, 9);
    const times = async (k: number) => {
      const events = (await env.client.workflow.getHandle(`run-join/run/p${k}`).fetchHistory()).events ?? [];
      const at = (e: (typeof events)[number]) =>
        Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
      const afterScheduled = events.filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'annotate',
      );
      const workDone = events.filter((e) => e.activityTaskCompletedEventAttributes).slice(0, 3);
      return { firstAfter: Math.min(...afterScheduled.map(at)), lastWork: Math.max(...workDone.map(at)) };
    };
    const all = await Promise.all([0, 1, 2].map(times));
    const lastWorkAnywhere = Math.max(...all.map((t) => t.lastWork));
    for (const [k, t] of all.entries()) {
      assert.ok(t.firstAfter >= lastWorkAnywhere, `partition ${k} went past the join before partition 2 arrived`);
    }
  });

  it('dead-letters a poison item after its last attempt, with stage, error, attempts and input; the rest go on', async () => {
    const spec: PipelineSpec = {
      name: 'poison',
      start: 'risky',
      stages: {
        risky: {
          kind: 'activity',
          activity: 'fail-when',
          batchSize: 5,
          retry: { initialInterval: '1 second', maximumAttempts: 3 },
          next: 'ok',
        },
        ok: { kind: 'reduce' },
      },
    };
    const items = users(6);
    items[2] = { ...items[2], data: { ...items[2].data, fail: 'always' } };
    items[4] = { ...items[4], data: { ...items[4].data, fail: 'invalid' } };
    const result = await run(spec, { items });
    assert.equal(result.reduce.ok.count, 4);
    assert.equal(result.deadLettered, 2);
    const poison = result.deadLetters.find((d) => d.itemId === 'user-2');
    assert.deepEqual(
      poison && { stage: poison.stage, type: poison.error.type, attempts: poison.attempts, input: poison.input },
      {
        stage: 'risky',
        type: 'Poison',
        attempts: 3,
        input: items[2],
      },
    );
    const invalid = result.deadLetters.find((d) => d.itemId === 'user-4');
    assert.equal(invalid?.error.type, 'InvalidInput');
    assert.equal(invalid?.attempts, 1, 'bad input is not retried');
  });

  it('retries with exponential backoff measured in hours of skipped time', async () => {
    const spec: PipelineSpec = {
      name: 'backoff',
      start: 'flaky',
      stages: {
        flaky: {
          kind: 'activity',
          activity: 'fail-when',
          retry: { initialInterval: '1 hour', backoffCoefficient: 2, maximumAttempts: 5 },
          next: 'ok',
        },
        ok: { kind: 'reduce' },
      },
    };
    // Its own server: time skips only while no activity runs anywhere on the server, and the race
    // test leaves a cancelled activity running until its heartbeat times out. The partition
    // workflow directly: the Java test server stalls long backoffs in a child workflow (1.34.0).
    const env = await createTimeSkippingServer();
    const config = isolatedConfig();
    const before = await env.currentTimeMs();
    const outcome = await withPipelineWorkers(env, config, [], () =>
      env.client.workflow.execute(pipelinePartition, {
        taskQueue: config.queues.workflow,
        workflowId: 'backoff/partition',
        args: [
          {
            spec,
            run: 'run',
            entry: 'flaky',
            source: { items: [{ id: 'flaky', data: { fail: 2 } }] },
            queues: { workflow: config.queues.workflow, activity: config.queues.stages },
          },
        ],
      }),
    );
    const hours = ((await env.currentTimeMs()) - before) / 3_600_000;
    await env.teardown();
    assert.equal(outcome.reduce.ok.count, 1, 'succeeded on the third attempt');
    assert.equal(outcome.deadLettered, 0);
    assert.ok(hours >= 3, `1 h + 2 h of backoff, saw ${hours.toFixed(2)} h`);
  });

  it('fails the run when dead letters pass the tolerated failure percentage', async () => {
    const spec: PipelineSpec = {
      name: 'tolerance',
      start: 'risky',
      toleratedFailurePercent: 20,
      stages: { risky: { kind: 'activity', activity: 'fail-when', next: 'ok' }, ok: { kind: 'reduce' } },
    };
    const items = users(4).map((u, i) => (i < 2 ? { ...u, data: { fail: 'invalid' } } : u));
    await assert.rejects(run(spec, { items }), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.ok(error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'ToleratedFailureExceeded');
      assert.match(error.cause.message, /2 of 4 items \(50\.0%\) were dead-lettered, more than the tolerated 20%/);
      return true;
    });
  });

  it('partitions a large run into child workflows and merges their outcomes', async () => {
    const spec: PipelineSpec = {
      name: 'partitions',
      start: 'work',
      partitionSize: 40,
      stages: {
        work: { kind: 'activity', activity: 'noop', batchSize: 20, next: 'count' },
        count: { kind: 'reduce', sum: ['n'] },
      },
    };
    const result = await run(spec, { generate: { count: 100 } });
    assert.equal(result.partitions, 3);
    assert.equal(result.completed, 100);
    assert.equal(result.reduce.count.count, 100);
    assert.equal(result.reduce.count.sums.n, (99 * 100) / 2);
  });

  it('rejects an invalid spec before doing any work, saying what to fix', async () => {
    const spec = {
      name: 'broken',
      start: 'a',
      stages: { a: { kind: 'activity', activity: 'nope', next: 'b' } },
    } as unknown as PipelineSpec;
    await assert.rejects(run(spec, { items: users(1) }), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, 'InvalidPipelineSpec');
      assert.match(error.cause.message, /stages\.a/);
      return true;
    });
  });
});
