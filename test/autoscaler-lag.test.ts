/**
 * Autoscaling on a Kafka consumer group's lag, beside the task queue: the policy takes the larger
 * of the two demands, `kafkaLag` is checked with its place and fix, and on a real broker events
 * published with no consumer scale a pool up from zero; once a consumer committed them the pool
 * goes back to zero (its worker processes drain and exit).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { autoscaleConfig, AutoscaleConfigError } from '../src/autoscaler/config';
import { ConsumerLagReader } from '../src/autoscaler/consumer-lag';
import { decide, type QueueObservation } from '../src/autoscaler/policy';
import { readAutoscalerState } from '../src/autoscaler/state';
import { loadConfig } from '../src/infra/config';
import { repoRoot } from '../src/infra/paths';
import { waitFor } from '../src/infra/wait';
import { runTopicConsumer, type TopicConsumer } from '../src/topics/kafka-consumer';
import { createEventPublisher, ensureTopics } from '../src/topics/kafka-publisher';
import { isolatedConfig } from './support/config';
import { recordingAutoscaler } from './support/autoscaler';
import { sharedKafkaBroker } from './support/kafka';
import { sharedDevServer } from './support/servers';

const lagSource = { consumerGroup: 'batch-router', lagThreshold: 10 };
const limits = { min: 0, max: 4, targetBacklogPerWorker: 8, coolDownSeconds: 10, kafkaLag: lagSource };
const seen = (o: Partial<QueueObservation>): QueueObservation => ({ backlog: 0, inFlight: 0, workers: 0, at: 0, ...o });

describe('autoscaling on consumer lag: policy and configuration', () => {
  it('takes the larger demand of task queue and lag, and says which numbers gave it', () => {
    const byLag = decide(limits, seen({ backlog: 3, lag: 25 }), {}).decision;
    assert.deepEqual([byLag.action, byLag.to, byLag.needed, byLag.lag], ['up', 3, 3, 25]);
    assert.match(
      byLag.reason,
      /backlog 3 \+ in flight 0 = 3 needs 1 worker at 8\/worker; Kafka lag 25 \(batch-router\) needs 3 workers at 10\/worker; have 0 \[min 0, max 4\] → start 3/,
    );
    const byTasks = decide(limits, seen({ backlog: 30, lag: 5 }), {}).decision;
    assert.deepEqual([byTasks.to, byTasks.needed], [4, 4]);
    const unread = decide(limits, seen({ backlog: 9, lag: undefined }), {}).decision;
    assert.equal(unread.to, 2, 'lag unknown: the task queue alone decides');
    assert.match(unread.reason, /Kafka lag of batch-router unknown/);
    const idle = decide(limits, seen({ lag: 0 }), {}).decision;
    assert.deepEqual([idle.action, idle.to], ['hold', 0]);
    // A pool without kafkaLag ignores a lag it is given.
    const { kafkaLag: _, ...plain } = limits;
    assert.equal(decide(plain, seen({ lag: 100 }), {}).decision.to, 0);
  });

  it('checks kafkaLag with its place and the fix', () => {
    const config = loadConfig({});
    const pool = (kafkaLag: unknown) => ({
      pools: { workflows: { role: 'workflows', max: 2, targetBacklogPerWorker: 50, kafkaLag } },
    });
    const ok = autoscaleConfig(pool({ consumerGroup: 'batch-router', topic: 'uploads', lagThreshold: 50 }), config);
    assert.deepEqual(ok.pools[0].kafkaLag, { consumerGroup: 'batch-router', topic: 'uploads', lagThreshold: 50 });
    let error: unknown;
    try {
      autoscaleConfig(pool({ group: 'x', topic: '_bad topic', lagThreshold: 0 }), config, 'deploy/bad.yaml');
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof AutoscaleConfigError, String(error));
    for (const expected of [
      /pools\.workflows\.kafkaLag\.group: unknown property; did you mean "consumerGroup"\? Allowed: consumerGroup, topic, lagThreshold/,
      /pools\.workflows\.kafkaLag\.consumerGroup: the Kafka consumer group whose lag counts .*; got undefined/,
      /pools\.workflows\.kafkaLag\.topic: a topic name .*; got "_bad topic"/,
      /pools\.workflows\.kafkaLag\.lagThreshold: unconsumed events one worker process carries, a whole number ≥ 1; got 0/,
    ])
      assert.match(error.message, expected);
    assert.throws(
      () => autoscaleConfig(pool({ consumerGroup: 'g', lagTreshold: 5 }), config),
      /kafkaLag\.lagTreshold: unknown property; did you mean "lagThreshold"\?/,
    );
  });
});

describe('autoscaling on consumer lag: a real broker', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await sharedDevServer();
  });

  it('events with no consumer scale the pool up from zero; once consumed, it goes back to zero', async () => {
    const broker = await sharedKafkaBroker();
    const brokers = [broker.bootstrap];
    const topic = `lag-${process.pid}`;
    const group = `lag-group-${process.pid}`;
    await ensureTopics(brokers, [{ name: topic, partitions: 2 }]);
    const publisher = createEventPublisher({ brokers });
    for (let i = 0; i < 8; i++) await publisher.publishEvent(topic, { id: `lag-${i}`, data: { n: i } });
    await publisher.close();

    const config = isolatedConfig(env.address);
    const outDir = path.join(repoRoot, 'test-output', 'autoscaler-lag', String(process.pid));
    fs.rmSync(outDir, { recursive: true, force: true });
    const autoscale = autoscaleConfig(
      {
        intervalSeconds: 0.5,
        pools: {
          stages: {
            role: 'stages',
            min: 0,
            max: 2,
            targetBacklogPerWorker: 8,
            coolDownSeconds: 1,
            kafkaLag: { consumerGroup: group, topic, lagThreshold: 4 },
          },
        },
      },
      config,
    );
    const lagReader = new ConsumerLagReader(brokers);
    const { autoscaler, events, decisions, stateFile, backToZero } = recordingAutoscaler(
      env,
      config,
      autoscale,
      outDir,
      {
        lagReader,
      },
    );
    let consumer: TopicConsumer | undefined;
    try {
      // Nobody consumes the topic and the task queue is empty: the lag alone asks for workers.
      await autoscaler.round();
      const [up] = decisions();
      assert.deepEqual(
        [up?.action, up?.from, up?.to, up?.backlog, up?.lag],
        ['up', 0, 2, 0, 8],
        JSON.stringify(decisions()),
      );
      assert.match(up.reason, new RegExp(`Kafka lag 8 \\(${group} on ${topic}\\) needs 2 workers at 4/worker`));
      assert.equal(readAutoscalerState(stateFile)?.pools[0].lag, 8, 'the state file shows the lag');
      autoscaler.start();
      await waitFor(
        'both workers started',
        async () => events.filter((e) => e.event === 'worker-started').length === 2,
        60_000,
      );

      // A consumer of the group commits every event: the lag drops to 0, and so does the pool.
      const consumed: string[] = [];
      consumer = await runTopicConsumer({
        brokers,
        groupId: group,
        topics: [topic],
        deadLetterTopic: `dead.lag${process.pid}`,
        sessionTimeoutMs: 3000,
        start: async (event) => {
          consumed.push(event.id);
          return 'started';
        },
      });
      await waitFor('every event consumed', async () => consumed.length >= 8, 30_000, 100);
      await backToZero('stages');
      const last = decisions()
        .filter((d) => d.action === 'down')
        .at(-1);
      assert.ok(last, JSON.stringify(decisions()));
      assert.deepEqual([last.from, last.to, last.lag], [2, 0, 0]);
      assert.ok(decisions().every((d) => d.to <= 2));
      for (const exit of events.filter((e) => e.event === 'worker-exited'))
        assert.ok(exit.event === 'worker-exited' && exit.expected && exit.code === 0, JSON.stringify(exit));
    } catch (error) {
      console.error(`      autoscaler log:\n${events.map((e) => `        ${JSON.stringify(e)}`).join('\n')}`);
      throw error;
    } finally {
      await consumer?.stop();
      await autoscaler.stop();
      await lagReader.close();
    }
  });

  it('a broker it cannot reach: lag unknown, logged once, the task queue decides', async () => {
    const config = isolatedConfig(env.address);
    const autoscale = autoscaleConfig(
      {
        pools: {
          stages: {
            role: 'stages',
            max: 1,
            targetBacklogPerWorker: 8,
            kafkaLag: { consumerGroup: 'nobody', lagThreshold: 1 },
          },
        },
      },
      config,
    );
    const lagReader = new ConsumerLagReader(['127.0.0.1:1']);
    const outDir = path.join(repoRoot, 'test-output', 'autoscaler-lag', `${process.pid}-down`);
    const { autoscaler, events } = recordingAutoscaler(env, config, autoscale, outDir, {
      startWorker: () => Promise.reject(new Error('no worker in this test')),
      drainMs: 1000,
      lagReader,
    });
    try {
      await autoscaler.round();
      await autoscaler.round();
      const errors = events.filter((e) => e.event === 'error');
      assert.equal(errors.length, 1, JSON.stringify(events));
      assert.match(
        errors[0].event === 'error' ? errors[0].message : '',
        /reading the lag of consumer group nobody from Kafka \(127\.0\.0\.1:1\)/,
      );
      const [hold] = events.flatMap((e) => (e.event === 'decision' ? [e] : []));
      assert.deepEqual([hold?.action, hold?.to], ['hold', 0]);
      assert.match(hold.reason, /Kafka lag of nobody unknown/);
    } finally {
      await autoscaler.stop();
      await lagReader.close();
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});
