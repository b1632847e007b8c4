/**
 * Work stealing for stragglers (seeds, ch. 11: "an idle worker steals from the longest queue").
 * A worker that owns one shard queue of a shard stage watches the backlog of its own queue and
 * of its siblings (the stage's other shard queues) on the server. While its own queue has no
 * backlog and a sibling has at least `minBacklog` tasks waiting, it runs one extra Worker on the
 * sibling with the largest backlog; it stops that Worker (gracefully: stolen tasks in flight
 * finish) as soon as its own queue has a backlog again, or once the sibling is drained (no
 * backlog and nothing stolen still running), and then looks for the next sibling. One stolen
 * queue at a time. Plain worker-side Node code (not workflow code).
 */
import { PeriodicLoop } from '../infra/periodic-loop';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { autoHeartbeat } from './auto-heartbeat';

/** Anything with the raw gRPC service: a @temporalio/client `Client` or `Connection`, or a `NativeConnection`. */
export type WorkflowServiceHolder = Pick<Client, 'workflowService'>;

export type StealStopReason = 'own-backlog' | 'sibling-drained' | 'worker-failed' | 'shutdown';

export type StealEvent =
  | {
      type: 'steal';
      at: number;
      own: string;
      ownBacklog: number;
      target: string;
      targetBacklog: number;
      /** Backlog of every sibling at the decision. */
      backlogs: Record<string, number>;
    }
  | {
      type: 'stop';
      at: number;
      target: string;
      reason: StealStopReason;
      ownBacklog?: number;
      targetBacklog?: number;
      /** Stolen tasks still running on the stealing worker when it was told to stop (they finish). */
      inFlight: number;
    }
  | { type: 'error'; at: number; message: string };

export interface WorkStealerOptions {
  /** Connection the stealing Worker polls on (the process's own). */
  connection: NativeConnection;
  /** For `describeTaskQueue` (backlog counts); default: `connection` (its raw workflow service). */
  client?: WorkflowServiceHolder;
  namespace: string;
  /** The shard queue this worker owns. */
  own: string;
  /** The stage's shard queues (`own` may be among them; it is never stolen from). */
  siblings: string[];
  /** Activities the stealing Worker registers: the stage activities. */
  activities: WorkerOptions['activities'];
  /** Backlog check period (default 2000 ms). */
  intervalMs?: number;
  /** Steal only from a sibling with at least this many tasks waiting (default 1). */
  minBacklog?: number;
  /** One line per decision (default: none). */
  log?: (line: string) => void;
  /** Called with every event, as it is appended to `events`. */
  onEvent?: (event: StealEvent) => void;
  /**
   * Extra options of the stealing Worker, e.g. identity or maxConcurrentActivityTaskExecutions.
   * Default shutdownGraceTime 30 s: how long stolen tasks in flight may finish after a stop
   * (the SDK's default, 0, cancels them: their attempt fails with WORKER_SHUTDOWN and is retried).
   */
  workerOptions?: Omit<Partial<WorkerOptions>, 'connection' | 'namespace' | 'taskQueue' | 'activities'>;
}

/** Which tasks of a task queue to count: workflow tasks or activity tasks (one queue name holds both). */
export type TaskQueueType = 'workflow' | 'activity';

/**
 * Tasks waiting for a poller on a task queue: the larger of two server counts from one
 * `describeTaskQueue` call. `stats.approximateBacklogCount` covers every partition but is served
 * from a server cache (`matching.TaskQueueInfoByBuildIdTTL`, 5 s by default): on Server 1.29.1 it
 * read 0 for 5 s while 20 tasks waited. `taskQueueStatus.backlogCountHint` is live but counts the
 * root partition only (the whole queue with one partition, as on the project's dev server). The
 * larger of the two sees new backlog at once; a cleared backlog may show for up to the cache TTL.
 */
export async function taskQueueBacklog(
  client: WorkflowServiceHolder,
  namespace: string,
  taskQueue: string,
  type: TaskQueueType,
): Promise<number> {
  const response = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: 1 /* TASK_QUEUE_KIND_NORMAL */ },
    taskQueueType: type === 'workflow' ? 1 /* TASK_QUEUE_TYPE_WORKFLOW */ : 2 /* TASK_QUEUE_TYPE_ACTIVITY */,
    reportStats: true,
    includeTaskQueueStatus: true,
  });
  return Math.max(
    Number(response.stats?.approximateBacklogCount ?? 0),
    Number(response.taskQueueStatus?.backlogCountHint ?? 0),
  );
}

/** Activity tasks waiting on a task queue (see taskQueueBacklog). */
export function activityBacklog(client: WorkflowServiceHolder, namespace: string, taskQueue: string): Promise<number> {
  return taskQueueBacklog(client, namespace, taskQueue, 'activity');
}

interface Stealing {
  queue: string;
  worker: Worker;
  running: Promise<void>;
  failure?: unknown;
}

export class WorkStealer {
  readonly events: StealEvent[] = [];
  private readonly intervalMs: number;
  private readonly minBacklog: number;
  private readonly siblings: string[];
  private stealing: Stealing | undefined;
  private readonly loop: PeriodicLoop;
  /** Last "not stealing" reason logged: repeated identical idle decisions are logged once. */
  private idleReason: string | undefined;

  constructor(private readonly options: WorkStealerOptions) {
    this.intervalMs = options.intervalMs ?? 2000;
    this.minBacklog = Math.max(1, options.minBacklog ?? 1);
    this.siblings = [...new Set(options.siblings)].filter((q) => q !== options.own);
    if (!(this.intervalMs > 0)) throw new Error(`WorkStealer: intervalMs must be > 0 (got ${options.intervalMs}).`);
    this.loop = new PeriodicLoop(() => this.round(), this.intervalMs);
  }

  /** The sibling queue being stolen from now (undefined once told to stop), if any. */
  currentTarget(): string | undefined {
    return this.stealing?.queue;
  }

  /** Starts the check loop (no-op when already running). */
  start(): void {
    this.loop.start();
  }

  /** Stops the loop and any stealing Worker (its stolen tasks in flight finish first). */
  async stop(): Promise<void> {
    await this.loop.stop();
    if (this.stealing) await this.stopStealing('shutdown', {});
  }

  /** One check; a failed one is reported and the next comes at the next interval. */
  private async round(): Promise<void> {
    try {
      await this.check();
    } catch (error) {
      this.emit({ type: 'error', at: Date.now(), message: message(error) }, `steal: check failed: ${message(error)}`);
    }
  }

  /** One decision: read every backlog, then keep, stop or start stealing. */
  private async check(): Promise<void> {
    const { namespace, own } = this.options;
    const client = this.options.client ?? this.options.connection;
    const [ownBacklog, ...siblingBacklogs] = await Promise.all(
      [own, ...this.siblings].map((q) => activityBacklog(client, namespace, q)),
    );
    const backlogs = Object.fromEntries(this.siblings.map((q, i) => [q, siblingBacklogs[i]]));
    if (this.loop.stopping) return;

    let drained: string | undefined;
    const current = this.stealing;
    if (current) {
      const targetBacklog = backlogs[current.queue];
      if (current.failure !== undefined) {
        await this.stopStealing('worker-failed', { ownBacklog, targetBacklog }, message(current.failure));
      } else if (ownBacklog > 0) {
        await this.stopStealing('own-backlog', { ownBacklog, targetBacklog });
        return; // own work first: no stealing while the own queue has a backlog
      } else if (targetBacklog === 0 && current.worker.getStatus().numInFlightActivities === 0) {
        await this.stopStealing('sibling-drained', { ownBacklog, targetBacklog });
        drained = current.queue;
      } else {
        return; // keep stealing
      }
    }

    if (ownBacklog > 0) {
      this.idle('own-busy', `steal: own ${own} backlog ${ownBacklog}; not stealing`);
      return;
    }
    const [target, targetBacklog] = Object.entries(backlogs)
      .filter(([q, n]) => q !== drained && n >= this.minBacklog)
      .sort((a, b) => b[1] - a[1])[0] ?? [undefined, 0];
    if (!target) {
      this.idle(
        'nothing',
        `steal: own ${own} backlog 0; no sibling with backlog >= ${this.minBacklog} (${describeBacklogs(backlogs)})`,
      );
      return;
    }
    await this.startStealing(target, targetBacklog, ownBacklog, backlogs);
  }

  private async startStealing(
    target: string,
    targetBacklog: number,
    ownBacklog: number,
    backlogs: Record<string, number>,
  ): Promise<void> {
    const { connection, namespace, activities, workerOptions } = this.options;
    const worker = await Worker.create({
      interceptors: { activity: [autoHeartbeat] },
      // The SDK default (0) cancels stolen tasks in flight at shutdown; let them finish instead.
      shutdownGraceTime: '30 seconds',
      ...workerOptions,
      connection,
      namespace,
      taskQueue: target,
      activities,
    });
    const stealing: Stealing = { queue: target, worker, running: Promise.resolve() };
    stealing.running = worker.run().catch((error: unknown) => {
      stealing.failure = error ?? new Error('stealing worker failed');
    });
    this.stealing = stealing;
    this.idleReason = undefined;
    const others = Object.entries(backlogs).filter(([q]) => q !== target);
    this.emit(
      { type: 'steal', at: Date.now(), own: this.options.own, ownBacklog, target, targetBacklog, backlogs },
      `steal: own ${this.options.own} backlog ${ownBacklog}; stealing from ${target} (backlog ${targetBacklog})` +
        (others.length ? `; others: ${describeBacklogs(Object.fromEntries(others))}` : ''),
    );
  }

  private async stopStealing(
    reason: StealStopReason,
    numbers: { ownBacklog?: number; targetBacklog?: number },
    detail?: string,
  ): Promise<void> {
    const stealing = this.stealing;
    if (!stealing) return;
    const inFlight = stealing.worker.getStatus().numInFlightActivities;
    const why =
      reason === 'own-backlog'
        ? `own backlog ${numbers.ownBacklog}`
        : reason === 'sibling-drained'
          ? `${stealing.queue} drained (backlog ${numbers.targetBacklog}, none in flight)`
          : reason === 'worker-failed'
            ? `stealing worker failed: ${detail}`
            : 'shutting down';
    this.emit(
      { type: 'stop', at: Date.now(), target: stealing.queue, reason, ...numbers, inFlight },
      `steal: stop stealing ${stealing.queue}: ${why}` + (inFlight ? `; ${inFlight} stolen task(s) finishing` : ''),
    );
    // Polling stops now; stolen tasks in flight finish before the worker is gone (awaited here,
    // so a new steal never starts while the last one is still draining).
    this.stealing = undefined;
    if (stealing.worker.getState() === 'RUNNING') stealing.worker.shutdown();
    await stealing.running;
  }

  private idle(reason: string, line: string): void {
    if (this.idleReason === reason) return;
    this.idleReason = reason;
    this.options.log?.(line);
  }

  private emit(event: StealEvent, line: string): void {
    this.events.push(event);
    this.options.onEvent?.(event);
    this.options.log?.(line);
  }
}

function describeBacklogs(backlogs: Record<string, number>): string {
  return Object.entries(backlogs)
    .map(([q, n]) => `${q} ${n}`)
    .join(', ');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
