/**
 * The autoscaler's control loop (seeds: scaling a worker fleet from zero with the queue length).
 * Every round it reads each pool's task queue from the server (backlog and tasks in flight),
 * asks the policy how many worker processes the pool needs, and starts or stops processes to
 * match. Stopping is SIGTERM: the worker stops polling and finishes its tasks in flight
 * (createWorkers' shutdown grace) before it exits. Starting processes count as workers at once,
 * so a slow start never triggers a second one for the same backlog. After every round the state
 * file is rewritten; every decision that changes something (and the first of a run of identical
 * holds) is logged with its numbers.
 */
import { PeriodicLoop } from '../infra/periodic-loop';
import path from 'node:path';
import type { ManagedProcess } from '../infra/processes';
import type { WorkflowServiceHolder } from '../workers/work-stealer';
import type { AutoscaleConfig, AutoscalePool } from './config';
import type { ConsumerLagReader } from './consumer-lag';
import { decide, PolicyMemory, ScaleDecision } from './policy';
import { queueLoad } from './queue-load';
import {
  AutoscalerEvent,
  AutoscalerState,
  DecisionRecord,
  decisionsKept,
  PoolState,
  WorkerRecord,
  writeAutoscalerState,
} from './state';

export interface AutoscalerOptions {
  /** For DescribeTaskQueue and ListWorkers. */
  client: WorkflowServiceHolder;
  namespace: string;
  autoscale: AutoscaleConfig;
  /** Starts a worker process of a pool, logging to `logFile`; resolves once it polls its queue. */
  startWorker: (pool: AutoscalePool, worker: { id: number; logFile: string }) => Promise<ManagedProcess>;
  /** Folder of the worker processes' logs: `<pool>-<id>.log`. */
  logDir: string;
  /** Where the state is written after every round. */
  stateFile: string;
  /** How long a stopped worker may drain before it is killed (more than the workers' shutdown grace). */
  drainMs: number;
  /** Every event, as one JSON-able object. */
  log: (event: AutoscalerEvent) => void;
  /** Reads consumer-group lag for pools with `kafkaLag`; without it their lag is unknown. */
  lagReader?: Pick<ConsumerLagReader, 'lag'>;
}

interface Slot {
  id: number;
  state: WorkerRecord['state'];
  startedAt: Date;
  logFile: string;
  process?: ManagedProcess;
  /** Settles once the process polls (or failed to start). */
  started: Promise<void>;
}

interface Pool {
  spec: AutoscalePool;
  slots: Slot[];
  nextId: number;
  memory: PolicyMemory;
  decisions: DecisionRecord[];
  /** Rule of the last logged hold: a run of identical holds is logged once. */
  loggedHold?: string;
  lastLoad?: { backlog: number; inFlight: number | undefined; lag?: number; at: Date };
  /** The last lag-reading error logged: a broker that stays down is logged once, not every round. */
  lagError?: string;
  /** After a failed start, no new start before this time. */
  startBlockedUntil: number;
}

/** After a worker failed to start, wait this long before starting another for the pool. */
const startRetryMs = 10_000;

export class Autoscaler {
  private readonly pools: Pool[];
  private readonly startedAt = new Date();
  private readonly loop: PeriodicLoop;
  /** Stops under way (drains), awaited by stop(). */
  private readonly stopping = new Set<Promise<void>>();

  constructor(private readonly options: AutoscalerOptions) {
    this.loop = new PeriodicLoop(() => this.round(), options.autoscale.intervalSeconds * 1000);
    this.pools = options.autoscale.pools.map((spec) => ({
      spec,
      slots: [],
      nextId: 1,
      memory: {},
      decisions: [],
      startBlockedUntil: 0,
    }));
  }

  /** Starts the control loop (no-op when running). */
  start(): void {
    this.loop.start();
  }

  /** Ends the loop and stops every worker process it started; each drains first. */
  async stop(): Promise<void> {
    await this.loop.stop();
    for (const pool of this.pools) {
      for (const slot of [...pool.slots]) if (slot.state !== 'draining') this.stopWorker(pool, slot, 'shutdown');
    }
    while (this.stopping.size > 0) await Promise.all([...this.stopping]);
    await this.writeState();
  }

  /** One round for every pool: observe, decide, act; then the state file. Exposed for tests. */
  async round(): Promise<void> {
    await Promise.all(this.pools.map((pool) => this.roundFor(pool)));
    await this.writeState();
  }

  /** Worker processes of a pool that count (starting or running). */
  workerCount(poolName: string): number {
    const pool = this.pools.find((p) => p.spec.name === poolName);
    if (!pool) throw new Error(`No pool "${poolName}"; pools: ${this.pools.map((p) => p.spec.name).join(', ')}.`);
    return active(pool).length;
  }

  private async roundFor(pool: Pool): Promise<void> {
    const { spec } = pool;
    let load: Awaited<ReturnType<typeof queueLoad>>;
    try {
      load = await queueLoad(this.options.client, this.options.namespace, spec.taskQueue, spec.taskType);
    } catch (error) {
      this.options.log({
        event: 'error',
        time: now(),
        pool: spec.name,
        message: `reading ${spec.taskQueue}: ${text(error)}`,
      });
      return;
    }
    const lag = await this.lagOf(pool);
    if (this.loop.stopping) return;
    const at = Date.now();
    pool.lastLoad = { ...load, ...(lag === undefined ? {} : { lag }), at: new Date(at) };
    const { decision, memory } = decide(spec, { ...load, lag, workers: active(pool).length, at }, pool.memory);
    if (decision.action === 'up' && at < pool.startBlockedUntil) {
      const retry = new Date(pool.startBlockedUntil).toISOString();
      this.record(pool, {
        ...decision,
        action: 'hold',
        to: decision.from,
        reason: `${decision.reason}; deferred: the last start failed, next try at ${retry}`,
      });
      return;
    }
    pool.memory = memory;
    this.record(pool, decision);
    if (decision.action === 'up') {
      for (let i = decision.from; i < decision.to; i++) this.startWorker(pool);
    } else if (decision.action === 'down') {
      // Newest first: a worker still starting holds no tasks yet.
      const surplus = active(pool).slice(decision.to);
      for (const slot of surplus) this.stopWorker(pool, slot, `scale down to ${decision.to}`);
    }
  }

  /** The pool's consumer-group lag; undefined (the task queue alone decides) when it has none or it cannot be read. */
  private async lagOf(pool: Pool): Promise<number | undefined> {
    const source = pool.spec.kafkaLag;
    if (!source || !this.options.lagReader) return undefined;
    try {
      const lag = await this.options.lagReader.lag(source);
      pool.lagError = undefined;
      return lag;
    } catch (error) {
      const message = text(error);
      if (pool.lagError !== message) this.options.log({ event: 'error', time: now(), pool: pool.spec.name, message });
      pool.lagError = message;
      return undefined;
    }
  }

  /** Logs a decision unless it repeats the last logged hold; keeps it in the pool's recent decisions. */
  private record(pool: Pool, decision: ScaleDecision): void {
    if (decision.action === 'hold') {
      const key = `${decision.rule} ${decision.from}`;
      if (pool.loggedHold === key) return;
      pool.loggedHold = key;
    } else {
      pool.loggedHold = undefined;
    }
    const { at, ...numbers } = decision;
    const entry: DecisionRecord = { time: new Date(at).toISOString(), ...numbers };
    pool.decisions = [...pool.decisions, entry].slice(-decisionsKept);
    const { name, taskQueue, ...limits } = pool.spec;
    this.options.log({ event: 'decision', pool: name, taskQueue, ...entry, ...limits });
  }

  private startWorker(pool: Pool): void {
    const id = pool.nextId++;
    const logFile = path.join(this.options.logDir, `${pool.spec.name.replace(/[^A-Za-z0-9._-]/g, '-')}-${id}.log`);
    const slot: Slot = { id, state: 'starting', startedAt: new Date(), logFile, started: Promise.resolve() };
    pool.slots.push(slot);
    slot.started = this.options.startWorker(pool.spec, { id, logFile }).then(
      (process) => {
        slot.process = process;
        const pid = process.child.pid ?? -1;
        if (slot.state === 'starting') slot.state = 'running';
        this.options.log({ event: 'worker-started', time: now(), pool: pool.spec.name, worker: id, pid, logFile });
        void process.exited.then((code) => {
          pool.slots = pool.slots.filter((s) => s !== slot);
          const expected = slot.state === 'draining';
          this.options.log({
            event: 'worker-exited',
            time: now(),
            pool: pool.spec.name,
            worker: id,
            pid,
            code,
            expected,
          });
        });
      },
      (error: unknown) => {
        pool.slots = pool.slots.filter((s) => s !== slot);
        pool.startBlockedUntil = Date.now() + startRetryMs;
        const retryAt = new Date(pool.startBlockedUntil).toISOString();
        this.options.log({
          event: 'worker-start-failed',
          time: now(),
          pool: pool.spec.name,
          worker: id,
          message: text(error),
          retryAt,
        });
      },
    );
  }

  /** SIGTERM once the worker polls (a starting one is stopped as soon as it is up); it drains, then exits. */
  private stopWorker(pool: Pool, slot: Slot, reason: string): void {
    slot.state = 'draining';
    this.options.log({
      event: 'worker-stopping',
      time: now(),
      pool: pool.spec.name,
      worker: slot.id,
      pid: slot.process?.child.pid,
      reason,
    });
    const stopped = slot.started
      .then(() => slot.process?.stop(this.options.drainMs))
      .finally(() => this.stopping.delete(stopped));
    this.stopping.add(stopped);
  }

  private async writeState(): Promise<void> {
    const state: AutoscalerState = {
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      updatedAt: now(),
      intervalSeconds: this.options.autoscale.intervalSeconds,
      pools: this.pools.map((pool): PoolState => ({
        pool: pool.spec,
        backlog: pool.lastLoad?.backlog,
        inFlight: pool.lastLoad?.inFlight,
        lag: pool.lastLoad?.lag,
        observedAt: pool.lastLoad?.at.toISOString(),
        workers: pool.slots.map((slot) => ({
          id: slot.id,
          pid: slot.process?.child.pid,
          state: slot.state,
          startedAt: slot.startedAt.toISOString(),
          logFile: slot.logFile,
        })),
        decisions: pool.decisions,
      })),
    };
    try {
      await writeAutoscalerState(this.options.stateFile, state);
    } catch (error) {
      this.options.log({ event: 'error', time: now(), message: `writing ${this.options.stateFile}: ${text(error)}` });
    }
  }
}

/** Workers that count: starting or running, oldest first. */
function active(pool: Pool): Slot[] {
  return pool.slots.filter((slot) => slot.state !== 'draining');
}

function now(): string {
  return new Date().toISOString();
}

function text(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
