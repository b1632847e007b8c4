/**
 * The autoscaler: its policy (pure), its configuration and, on the real dev server, a queue with
 * no worker whose backlog is drained by worker processes the autoscaler starts, after which the
 * queue goes back to zero workers (the processes drain and exit on their own).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import {
  autoscaleConfig,
  AutoscaleConfigError,
  defaultAutoscaleFile,
  loadAutoscaleConfig,
} from '../src/autoscaler/config';
import { decide, PolicyMemory, QueueObservation } from '../src/autoscaler/policy';
import { AutoscalerEvent, readAutoscalerState } from '../src/autoscaler/state';
import { autoscalerStatus, formatAutoscalerStatus } from '../src/autoscaler/status';
import { startPipelineRun } from '../src/client/pipeline-run';
import type { PipelineSpec } from '../src/pipelines/spec';
import { loadConfig } from '../src/infra/config';
import { processAlive } from '../src/infra/atomic-write';
import { repoRoot } from '../src/infra/paths';
import { waitFor } from '../src/infra/wait';
import { parseRoles } from '../src/workers/roles';
import { isShardQueueOf, parseShardQueues, shardsOfSpecs } from '../src/workers/shard-queues';
import { recordingAutoscaler } from './support/autoscaler';
import { isolatedConfig } from './support/config';
import { sharedDevServer, sharedWorkflowBundle } from './support/servers';

const limits = { min: 0, max: 3, targetBacklogPerWorker: 4, coolDownSeconds: 10 };
const seen = (o: Partial<QueueObservation>): QueueObservation => ({ backlog: 0, inFlight: 0, workers: 0, at: 0, ...o });

describe('autoscaling policy', () => {
  it('an idle queue keeps zero workers; a backlog starts ceil(tasks / target) at once, capped at max', () => {
    const idle = decide(limits, seen({}), {}).decision;
    assert.deepEqual([idle.action, idle.rule, idle.to], ['hold', 'steady', 0]);

    const some = decide(limits, seen({ backlog: 5 }), {}).decision;
    assert.deepEqual([some.action, some.from, some.to, some.needed], ['up', 0, 2, 2]);
    assert.match(
      some.reason,
      /backlog 5 \+ in flight 0 = 5 needs 2 workers at 4\/worker; have 0 \[min 0, max 3\] → start 2/,
    );

    const flood = decide(limits, seen({ backlog: 100, inFlight: 12, workers: 1 }), {}).decision;
    assert.deepEqual([flood.action, flood.to, flood.needed], ['up', 3, 28]);
    assert.match(flood.reason, /capped at max 3/);
    const atMax = decide(limits, seen({ backlog: 100, workers: 3 }), {}).decision;
    assert.deepEqual([atMax.action, atMax.rule], ['hold', 'at-max']);
  });

  it('counts tasks in flight: busy workers with no backlog are kept', () => {
    const busy = decide(limits, seen({ backlog: 0, inFlight: 8, workers: 2 }), {}).decision;
    assert.deepEqual([busy.action, busy.rule, busy.to], ['hold', 'steady', 2]);
    const unknown = decide(limits, seen({ backlog: 5, inFlight: undefined }), {}).decision;
    assert.equal(unknown.to, 2);
    assert.match(unknown.reason, /backlog 5 \(in flight unknown\) needs 2 workers/);
  });

  it('scales down only after a whole cool-down with more workers than needed, and then to what is needed', () => {
    let memory: PolicyMemory = {};
    const step = (at: number, o: Partial<QueueObservation>) => {
      const result = decide(limits, seen({ at, ...o }), memory);
      memory = result.memory;
      return result.decision;
    };
    assert.equal(step(0, { workers: 3, inFlight: 4 }).rule, 'cool-down'); // needs 1, has 3
    assert.equal(step(6_000, { workers: 3, inFlight: 4 }).rule, 'cool-down');
    assert.equal(step(8_000, { workers: 3, inFlight: 12 }).rule, 'steady'); // a wave: the surplus ends
    assert.equal(step(9_000, { workers: 3 }).rule, 'cool-down'); // the cool-down starts again
    const waiting = step(18_000, { workers: 3 });
    assert.equal(waiting.action, 'hold');
    assert.match(waiting.reason, /more than needed for 9\.0 s of the 10 s cool-down/);
    const down = step(19_000, { workers: 3, inFlight: 3 });
    assert.deepEqual([down.action, down.rule, down.from, down.to], ['down', 'surplus', 3, 1]);
    assert.match(down.reason, /more than needed for 10\.0 s ≥ cool-down 10 s → stop 2 \(they drain\)/);
    assert.equal(step(19_500, { workers: 1, inFlight: 3 }).action, 'hold');
  });

  it('measures the cool-down from the start of the surplus, also right after a scale-up', () => {
    const up = decide(limits, seen({ backlog: 12, at: 0 }), {});
    assert.equal(up.decision.to, 3);
    const lull = decide(limits, seen({ workers: 3, at: 1_000 }), up.memory);
    assert.equal(lull.decision.rule, 'cool-down');
    // The surplus began at 1 s: one whole cool-down later, at 11 s, the pool scales down.
    const early = decide(limits, seen({ workers: 3, at: 10_000 }), lull.memory);
    assert.equal(early.decision.rule, 'cool-down');
    const later = decide(limits, seen({ workers: 3, at: 11_000 }), early.memory);
    assert.deepEqual([later.decision.action, later.decision.to], ['down', 0]);
  });

  it('keeps min workers even when idle, and a cool-down of 0 scales down at once', () => {
    const floor = decide({ ...limits, min: 1 }, seen({}), {}).decision;
    assert.deepEqual([floor.action, floor.rule, floor.to], ['up', 'below-min', 1]);
    const held = decide({ ...limits, min: 1 }, seen({ workers: 1 }), {}).decision;
    assert.match(held.reason, /kept at min 1/);
    const now = decide({ ...limits, coolDownSeconds: 0 }, seen({ workers: 2, at: 5 }), {}).decision;
    assert.deepEqual([now.action, now.to], ['down', 0]);
  });
});

describe('autoscale configuration', () => {
  it('deploy/autoscale.yaml: one pool per role and per shard queue, queues from the environment', () => {
    const config = loadConfig({});
    const autoscale = loadAutoscaleConfig(defaultAutoscaleFile, config);
    const byName = Object.fromEntries(autoscale.pools.map((p) => [p.name, p]));
    assert.deepEqual(Object.keys(byName).sort(), [
      'image',
      'signup#0',
      'signup#1',
      'signup#2',
      'signup-enrich#0',
      'signup-enrich#1',
      'signup-enrich#2',
      'stages',
      'video',
      'workflows',
    ]);
    assert.deepEqual(
      [byName.workflows.taskQueue, byName.workflows.taskType, byName.workflows.roles],
      [config.queues.workflow, 'workflow', 'workflows'],
    );
    assert.deepEqual([byName.video.taskQueue, byName.video.taskType], [config.queues.video, 'activity']);
    assert.equal(byName.stages.taskQueue, config.queues.stages);
    assert.deepEqual(
      [byName['signup-enrich#1'].taskQueue, byName['signup-enrich#1'].roles, byName['signup-enrich#1'].shards],
      ['signup-enrich-shard-1', 'none', 'signup-enrich#1'],
    );
    // Every shard queue there is has its pool, and no other: the example pipelines' shard stages
    // and the sign-up flow's shards (BATCH_SIGNUP_QUEUE, BATCH_SIGNUP_SHARDS).
    const shardQueues = [
      ...parseShardQueues(shardsOfSpecs(path.join(repoRoot, 'pipelines', 'examples'))),
      ...parseShardQueues(`${config.signup.queue}:${config.signup.shards}`),
    ];
    const shardPools = autoscale.pools.filter((p) => p.shards !== undefined);
    assert.deepEqual(shardPools.map((p) => p.taskQueue).sort(), shardQueues.sort());
    for (const pool of shardPools) {
      assert.deepEqual([pool.roles, pool.taskType], ['none', 'activity'], pool.name);
      assert.deepEqual(parseShardQueues(pool.shards), [pool.taskQueue], `${pool.name}: --shards ${pool.shards}`);
    }
    assert.deepEqual(
      [byName['signup#2'].taskQueue, byName['signup#2'].shards],
      [`${config.signup.queue}-shard-2`, `${config.signup.queue}#2`],
    );
    assert.ok(isShardQueueOf(byName['signup#2'].taskQueue, config.signup.queue), 'served with mail and SMS');
    assert.ok(!isShardQueueOf(byName['signup-enrich#2'].taskQueue, config.signup.queue), 'served with stages');
    assert.ok(
      autoscale.pools.every((p) => p.min === 0),
      'every pool scales to zero',
    );
    assert.deepEqual(parseRoles('none'), [], 'a shard pool worker serves only its shard queue');
  });

  it('names every problem with its place and the fix', () => {
    const config = loadConfig({});
    const bad = {
      interval: 2,
      pools: {
        video: { role: 'vidoe', max: 2, targetBacklogPerWorker: 2 },
        image: { role: 'image', min: 3, max: 2, targetBacklogPerWorker: 0, coolDown: 5 },
        both: { role: 'stages', shardQueue: 'q', shards: 2, max: 1, targetBacklogPerWorker: 1 },
        stages: { role: 'stages', max: 1, targetBacklogPerWorker: 1 },
        again: { role: 'stages', max: 1, targetBacklogPerWorker: 1 },
        shard: { shardQueue: 'q', shards: 0, max: 1, targetBacklogPerWorker: 1 },
      },
    };
    let error: unknown;
    try {
      autoscaleConfig(bad, config, 'deploy/bad.yaml');
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof AutoscaleConfigError, String(error));
    assert.match(error.message, /^deploy\/bad\.yaml: 8 problems:/);
    for (const expected of [
      /interval: unknown property; did you mean "intervalSeconds"\?/,
      /pools\.video\.role: unknown role "vidoe"; did you mean "video"\?/,
      /pools\.image\.max: must be ≥ min \(3\); got 2/,
      /pools\.image\.targetBacklogPerWorker: tasks one worker process carries, a whole number ≥ 1 .*; got 0/,
      /pools\.image\.coolDown: unknown property; did you mean "coolDownSeconds"\?/,
      /pools\.both: give either role .* or shardQueue with shards, not both/,
      /pools\.again: scales task queue "pipeline-stages" as pools\.stages does; keep one/,
      /pools\.shard\.shards: the stage's number of shards, a whole number ≥ 1; got 0/,
    ])
      assert.match(error.message, expected);
    assert.throws(() => autoscaleConfig({ pools: {} }, config), /pools: must map pool names to pools/);
  });

  it('refuses a sign-up pool whose shard count differs from the flow (BATCH_SIGNUP_SHARDS)', () => {
    const config = loadConfig({ BATCH_SIGNUP_SHARDS: '5' });
    const pools = { signup: { shardQueue: 'signup', shards: 3, max: 1, targetBacklogPerWorker: 1 } };
    assert.throws(
      () => autoscaleConfig({ pools }, config),
      /pools\.signup\.shards: the sign-up flow runs 5 shards of "signup" \(BATCH_SIGNUP_SHARDS\); set shards: 5, or BATCH_SIGNUP_SHARDS=3/,
    );
    const matching = autoscaleConfig({ pools: { signup: { ...pools.signup, shards: 5 } } }, config);
    assert.deepEqual(
      matching.pools.map((p) => p.taskQueue),
      [0, 1, 2, 3, 4].map((k) => `signup-shard-${k}`),
    );
  });
});

describe('autoscaler on the dev server', function () {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await sharedDevServer();
  });

  it('starts workers for a backlog on a queue with none, drains it, and goes back to zero workers', async function () {
    this.timeout(120_000);
    const config = isolatedConfig(env.address);
    const outDir = path.join(repoRoot, 'test-output', 'autoscaler', String(process.pid));
    fs.rmSync(outDir, { recursive: true, force: true });
    const autoscale = autoscaleConfig(
      {
        intervalSeconds: 0.5,
        pools: { stages: { role: 'stages', min: 0, max: 2, targetBacklogPerWorker: 4, coolDownSeconds: 2 } },
      },
      config,
    );
    const { autoscaler, events, decisions, stateFile, backToZero } = recordingAutoscaler(
      env,
      config,
      autoscale,
      outDir,
    );
    // The workflow worker runs in this process; the stage queue has no worker but the autoscaler's.
    const workflowWorker = await Worker.create({
      connection: env.nativeConnection,
      namespace: config.namespace,
      taskQueue: config.queues.workflow,
      workflowBundle: await sharedWorkflowBundle(),
    });
    const workflowWorkerRun = workflowWorker.run();
    try {
      await autoscaler.round();
      assert.deepEqual(
        decisions().map((d) => [d.action, d.from, d.to, d.backlog]),
        [['hold', 0, 0, 0]],
        'an idle queue has no worker',
      );
      autoscaler.start();

      const spec: PipelineSpec = {
        name: 'autoscale',
        start: 'work',
        concurrency: 100, // every item's task is scheduled at once: the backlog is all of them
        stages: {
          work: { kind: 'activity', activity: 'sleep', batchSize: 1, next: 'done' },
          done: { kind: 'reduce' },
        },
      };
      const items = Array.from({ length: 24 }, (_, i) => ({ id: `item-${i}`, data: { sleepMs: 2000 } }));
      const run = await startPipelineRun(env.client, config, spec, { items }, { runName: 'from-zero' });
      const result = await run.result();
      assert.equal(result.completed, items.length, JSON.stringify(result));

      const up = decisions().find((d) => d.action === 'up');
      assert.ok(up, JSON.stringify(decisions()));
      assert.equal(up.from, 0);
      assert.ok(up.backlog > 0, `scaled up at backlog ${up.backlog}`);
      // 24 tasks need 6 workers at 4 per worker: capped at max 2, never more.
      assert.ok(decisions().some((d) => d.to === 2));
      assert.ok(decisions().every((d) => d.to <= 2));
      assert.equal(up.taskQueue, config.queues.stages);
      assert.deepEqual([up.min, up.max, up.targetBacklogPerWorker, up.coolDownSeconds], [0, 2, 4, 2]);
      // The workers' heartbeats (every second) report the tasks they run: seen while the run went on.
      assert.ok(
        decisions().some((d) => (d.inFlight ?? 0) > 0),
        'tasks in flight seen',
      );

      await backToZero('stages');
      const started = events.filter((e) => e.event === 'worker-started');
      assert.ok(started.length >= 2, `${started.length} worker processes started`);
      for (const exit of events.filter((e) => e.event === 'worker-exited')) {
        assert.ok(exit.event === 'worker-exited' && exit.expected && exit.code === 0, JSON.stringify(exit));
      }
      const down = decisions().filter((d) => d.action === 'down');
      const last = down.at(-1);
      assert.ok(last, JSON.stringify(decisions()));
      assert.deepEqual([last.to, last.backlog, last.inFlight], [0, 0, 0], 'in flight read from the workers');
      assert.match(last.reason, /backlog 0 \+ in flight 0 = 0 needs 0 workers/);

      await autoscaler.stop();
      const state = readAutoscalerState(stateFile);
      assert.ok(state);
      assert.equal(state.pools[0].pool.taskQueue, config.queues.stages);
      assert.deepEqual(state.pools[0].workers, []);
      assert.ok(state.pools[0].decisions.some((d) => d.action === 'up' && d.to === 2));

      const report = formatAutoscalerStatus(await autoscalerStatus(env.client, config.namespace, autoscale, state), {
        running: true,
        pid: state.pid,
        updatedAt: state.updatedAt,
        configFile: 'test',
      });
      assert.match(
        report,
        new RegExp(`stages\\s+${config.queues.stages} \\(activity\\)\\s+0\\s+0\\s+0\\s+0\\.\\.2\\s+4\\s+2 s`),
      );
      assert.match(report, /stages {2}\S+ {2}down \d→0: backlog 0 \+ in flight 0/);
    } catch (error) {
      console.error(`      autoscaler log:\n${events.map((e) => `        ${JSON.stringify(e)}`).join('\n')}`);
      throw error;
    } finally {
      await autoscaler.stop();
      workflowWorker.shutdown();
      await workflowWorkerRun;
    }
  });
});

/** `npm run autoscaler` as a process: one pool of one stage worker on a queue of its own. */
function startAutoscalerProcess(address: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-autoscaler-'));
  const configFile = path.join(dir, 'autoscale.yaml');
  fs.writeFileSync(
    configFile,
    'intervalSeconds: 0.5\npools:\n  stages: { role: stages, min: 1, max: 1, targetBacklogPerWorker: 8, coolDownSeconds: 30 }\n',
  );
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/autoscaler/main.ts', '--config', configFile], {
    cwd: repoRoot,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      BATCH_DATA_DIR: dir,
      BATCH_STAGE_QUEUE: `autoscaler-process-${process.pid}-${path.basename(dir)}`,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const events = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as AutoscalerEvent);
  const output = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  const workerPid = async () => {
    await waitFor(
      'the autoscaler to start its worker',
      async () => child.exitCode !== null || events().some((e) => e.event === 'worker-started'),
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${output()}`);
    });
    const started = events().find((e) => e.event === 'worker-started');
    assert.ok(started?.event === 'worker-started', output());
    return started.pid;
  };
  const cleanUp = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { child, exited, events, output, workerPid, stderr: () => stderr, cleanUp };
}

describe('autoscaler process: its workers never outlive it', function () {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await sharedDevServer();
  });

  it('SIGKILLed: each of its workers notices its parent is gone and exits', async function () {
    this.timeout(90_000);
    const autoscaler = startAutoscalerProcess(env.address);
    try {
      const pid = await autoscaler.workerPid();
      assert.ok(processAlive(pid), 'worker running');
      autoscaler.child.kill('SIGKILL');
      await autoscaler.exited;
      await waitFor(`worker ${pid} to exit after its autoscaler was killed`, async () => !processAlive(pid), 30_000);
    } finally {
      autoscaler.cleanUp();
    }
  });

  it('crashing (an uncaught error): it stops its workers first, then exits 1 saying why', async function () {
    this.timeout(90_000);
    const autoscaler = startAutoscalerProcess(env.address, { BATCH_FAULT_CRASH: 'autoscaler' });
    try {
      const pid = await autoscaler.workerPid();
      assert.equal(await autoscaler.exited, 1, autoscaler.output());
      assert.match(
        autoscaler.stderr(),
        /\[autoscaler\] Crashed: Error: fault injection \(BATCH_FAULT_CRASH=autoscaler\)/,
      );
      const exit = autoscaler.events().find((e) => e.event === 'worker-exited');
      assert.ok(exit?.event === 'worker-exited' && exit.pid === pid && exit.expected, autoscaler.output());
      assert.ok(!processAlive(pid), 'no worker left running');
    } finally {
      autoscaler.cleanUp();
    }
  });
});
