/**
 * The engine that moves one partition's items through a pipeline's DAG inside a workflow.
 *
 * Every item walks the graph on its own (so one slow shard or branch delays only its items);
 * pattern stages (filter, split, shard choice, join, reduce) are decided in workflow code at no
 * history cost; activity stages are work queues: items wait in a per-stage (per-shard) queue
 * and a dispatcher sends them in batches of the stage's `batchSize`, within a window of
 * `concurrency` calls. A batch is sent when full, or as soon as nothing upstream is still
 * waiting to be sent (so batching never stalls behind a busy shard). Items that fail in a batch
 * are retried one by one under Temporal's retry policy, after new work; an item that fails its
 * last attempt becomes a dead letter and the run goes on.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { RefusedItem } from '../pipelines/item-reader-types';
import type { StageActivity, StageItemAnswer } from '../activities/pipeline/types';
import { parseDuration } from '../core/duration';
import type {
  ActivityStage,
  CopyStage,
  FilterStage,
  PipelineItem,
  PipelineSpec,
  ReduceStage,
  RetrySpec,
  ShardStage,
  SplitStage,
} from '../pipelines/spec';
import { Position } from './item-positions';
import { ItemResults, RecordingPositions } from './item-results';
import { passesFilter } from './patterns/filter';
import { routeOf } from './patterns/splitter';
import { shardOf, shardQueue } from './patterns/sharder';
import { addToReduce, emptyReduce, mergeReduce } from './patterns/reduce';
import { itemText } from '../pipelines/item-text';
import { specSuccessors, upstreamOf } from '../pipelines/stage-graph';
import { StageItemMetrics, stageOutcomeLabels } from './metrics';
import type { EngineOutcome } from './engine-outcome';

export type { DeadLetter, EngineOutcome, StageCounts } from './engine-outcome';

/** Sends one batch of items from a copy stage into its branches (child workflows); their outcome. */
export type CopyRunner = (
  stage: CopyStage,
  name: string,
  batch: number,
  items: PipelineItem[],
) => Promise<EngineOutcome>;

export interface EngineContext {
  pipeline: string;
  run: string;
  defaultActivityQueue: string;
  concurrency: number;
  runCopies: CopyRunner;
  /**
   * A run-wide join: called once per join when this partition has nothing left upstream of it;
   * resolves when every partition of the run has got there too. Absent: the join is local.
   */
  runBarrier?: (join: string) => Promise<void>;
  /** Called the first time this partition sends work to a shard task queue. */
  onShardQueue?: (taskQueue: string) => void;
  /** Keep each item's end (data, drop, dead letter) in `results` for the partition's results part. */
  recordResults?: boolean;
  /**
   * The partition recorded the one marker that stands for every engine patch (`partitionPatch`):
   * no patched() call of its own, so no marker and no search-attribute upsert per patch.
   */
  allPatches?: boolean;
}

interface Waiting {
  token: number;
  item: PipelineItem;
  resolve: (result: PipelineItem | undefined) => void;
}

interface WorkQueue {
  stage: string;
  taskQueue: string;
  /** The origin (merged source) of its items: Temporal's fairness key, so no source starves another. */
  origin?: string;
  batchSize: number;
  /** Items retried one by one after failing in a batch; served after new work. */
  isolated: boolean;
  waiting: Waiting[];
  batches: number;
  /** Calls in flight from this queue; each queue (stage, shard, origin) has its own window. */
  active: number;
}

/** A pattern stage's answer when the item's walk ends there (dropped or dead-lettered). */
const walkOver = Symbol('walk over');
/** Where a pattern stage sends an item: a stage, nowhere (`undefined`: done), or {@link walkOver}. */
type Next = string | undefined | typeof walkOver;

export function emptyOutcome(): EngineOutcome {
  return { total: 0, completed: 0, dropped: 0, deadLettered: 0, stages: {}, deadLetters: [], reduce: {} };
}

const defaultRetry: RetrySpec = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 5,
};

function retryPolicy(spec: RetrySpec | undefined): RetryPolicy {
  const r = spec ?? defaultRetry;
  return {
    // Specs were validated, so durations parse; the SDK takes milliseconds.
    initialInterval: r.initialInterval === undefined ? undefined : parseDuration(r.initialInterval),
    backoffCoefficient: r.backoffCoefficient,
    maximumInterval: r.maximumInterval === undefined ? undefined : parseDuration(r.maximumInterval),
    maximumAttempts: r.maximumAttempts,
    nonRetryableErrorTypes: ['InvalidInput', ...(r.nonRetryableErrorTypes ?? [])],
  };
}

export class PartitionEngine {
  readonly outcome: EngineOutcome = emptyOutcome();
  private readonly queues = new Map<string, WorkQueue>();
  private readonly positions = new RecordingPositions();
  /** Each item's end, when the context asks for results (src/workflows/item-results.ts). */
  readonly results?: ItemResults;
  private readonly upstream: Map<string, Set<string>>;
  private nextToken = 0;
  private finished = false;
  private rotation = 0;
  /**
   * Whether the round robin advances only when a batch is taken. Executions started before this
   * (no marker in their history) advanced it on every look, inside the dispatcher's condition:
   * deterministic for one SDK version, but dependent on how often the SDK evaluates conditions.
   */
  private rotateOnDispatch = false;
  private readonly gates = new Map<string, Promise<void>>();
  /**
   * Whether items walk by callbacks (pipeline-engine-callbacks): no promise per item. The SDK
   * records a stack trace for every promise made in workflow code (its stack-trace query), and
   * the 5–6 promises of an awaited walk were most of the engine's CPU per item. Executions
   * started before this (no marker) keep the awaited walk, whose batches may be cut differently.
   */
  private callbacks = false;
  /** Callback walks not ended yet, and what to call when none is left (or when one throws). */
  private walking = 0;
  private walksDone?: { resolve: () => void; reject: (error: unknown) => void };
  /** Per join: the continuations of the items waiting at it (callback walks). */
  private readonly joinWaiters = new Map<string, Array<() => void>>();
  private readonly shardQueues = new Set<string>();
  private readonly metrics: StageItemMetrics;

  constructor(
    private readonly spec: PipelineSpec,
    private readonly ctx: EngineContext,
  ) {
    this.upstream = upstreamOf(Object.keys(spec.stages), specSuccessors(spec));
    this.metrics = new StageItemMetrics(ctx.pipeline);
    if (ctx.recordResults) this.results = new ItemResults(this.positions);
    for (const name of Object.keys(spec.stages)) {
      this.outcome.stages[name] = { entered: 0, passed: 0, dropped: 0, deadLettered: 0 };
    }
  }

  /** Items waiting (queued) and in activity calls (running), per stage: for progress. */
  inFlight(): Record<string, { queued: number; running: number }> {
    const out: Record<string, { queued: number; running: number }> = {};
    for (const [stage, counts] of this.positions.perStage()) {
      if (counts.queued + counts.running > 0) out[stage] = { queued: counts.queued, running: counts.running };
    }
    return out;
  }

  /**
   * Moves `items` through the DAG from `entry`. `refused` are what an item reader could not make
   * an item of (a bad JSON line, an unreadable CSV row): each is dead-lettered at the entry stage
   * with its reason and gets its results line, like any item.
   */
  async run(entry: string, items: PipelineItem[], refused: RefusedItem[] = []): Promise<EngineOutcome> {
    // Partitions recorded before the one partition marker check each patch on its own.
    const all = this.ctx.allPatches === true;
    this.rotateOnDispatch = all || patched('pipeline-rotation-on-dispatch');
    this.callbacks = all || patched('pipeline-engine-callbacks');
    this.outcome.total += items.length + refused.length;
    for (const r of refused) this.refuse(r, entry);
    // Awaited together, so a cancellation that stops the dispatcher ends the run at once.
    const walks = (
      this.callbacks ? this.walkAll(items, entry) : Promise.all(items.map((item) => this.walkRecorded(item, entry)))
    ).then(() => {
      this.finished = true;
    });
    // A run-wide join must hear from every partition, even one whose items never reach it. Set up
    // after the walks started, so the items' positions count as upstream.
    if (this.ctx.runBarrier) {
      for (const [name, stage] of Object.entries(this.spec.stages)) {
        // Items awaiting the gate see its failure (e.g. cancellation); this reference must not.
        if (stage.kind === 'join') this.barrier(name).catch(() => undefined);
      }
    }
    await Promise.all([walks, this.dispatchLoop()]);
    return this.outcome;
  }

  /** A refused item: dead-lettered at the entry stage before any walk, with its results line. */
  private refuse(r: RefusedItem, entry: string): void {
    const token = this.nextToken++;
    this.outcome.stages[entry].entered += 1;
    this.deadLetterItem(entry, r.item, r.error, 0);
    this.results?.finished(token, r.item, this.outcome.deadLetters);
  }

  /** Every item's walk by callbacks; settles when the last walk ends (or one throws). */
  private walkAll(items: PipelineItem[], entry: string): Promise<void> {
    const done = new Promise<void>((resolve, reject) => (this.walksDone = { resolve, reject }));
    this.walking = items.length;
    if (this.walking === 0) this.walksDone!.resolve();
    for (const item of items) this.guarded(() => this.startWalk(item, entry));
    return done;
  }

  /** Runs a step of a callback walk: a bug in it fails the partition, as a rejected walk did. */
  private guarded(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.walksDone?.reject(error);
    }
  }

  private startWalk(item: PipelineItem, entry: string): void {
    const token = this.nextToken++;
    const shapeProblem = itemShapeProblem(item);
    if (shapeProblem) {
      this.outcome.stages[entry].entered += 1;
      this.deadLetterItem(entry, item, { type: 'InvalidItem', message: shapeProblem }, 0);
      return this.walkEnded(token, item);
    }
    this.step(token, item, item, entry);
  }

  /**
   * walk()'s loop without awaits: moves the item through pattern stages until it waits (in a
   * work queue, at a join), whose callback carries it on, or its walk ends.
   */
  private step(token: number, start: PipelineItem, item: PipelineItem, entry: string): void {
    let at: string | undefined = entry;
    while (at !== undefined) {
      const stage: PipelineSpec['stages'][string] = this.spec.stages[at];
      const here: PipelineItem = item;
      this.outcome.stages[at].entered += 1;
      this.positions.set(token, at, 'moving');
      switch (stage.kind) {
        case 'filter':
        case 'split':
        case 'reduce': {
          const next = this.pattern(at, stage, here);
          if (next === walkOver) return this.walkEnded(token, start);
          at = next;
          break;
        }
        case 'activity':
        case 'shard': {
          const name = at;
          const queue = this.queueFor(name, stage, here);
          if (queue === undefined) return this.walkEnded(token, start);
          return this.wait(token, name, queue, here, (result) => this.passed(token, start, name, result, stage.next));
        }
        case 'copy': {
          const name = at;
          // The branches carry the item on.
          return this.wait(token, name, this.copyQueue(name), here, (result) =>
            this.passed(token, start, name, result, undefined),
          );
        }
        case 'join': {
          const name = at;
          this.positions.set(token, name, 'waiting');
          return this.atJoin(name, () => this.passed(token, start, name, here, stage.next));
        }
      }
    }
    this.outcome.completed += 1;
    this.walkEnded(token, start);
  }

  /** The item waits in a work queue; `then` carries it on with the stage's answer. */
  private wait(
    token: number,
    stage: string,
    q: WorkQueue,
    item: PipelineItem,
    then: (result: PipelineItem | undefined) => void,
  ): void {
    this.positions.set(token, stage, 'queued');
    q.waiting.push({ token, item, resolve: (result) => this.guarded(() => then(result)) });
  }

  /** An item left `stage`: dead-lettered (`undefined`, its walk ends) or on to `next`. */
  private passed(
    token: number,
    start: PipelineItem,
    stage: string,
    item: PipelineItem | undefined,
    next: string | undefined,
  ): void {
    if (item === undefined) return this.walkEnded(token, start);
    this.count(stage, 'passed');
    if (next === undefined) {
      this.outcome.completed += 1;
      return this.walkEnded(token, start);
    }
    this.step(token, start, item, next);
  }

  /** Items wait at a join together: one continuation list per join, run in arrival order when it opens. */
  private atJoin(join: string, then: () => void): void {
    let waiters = this.joinWaiters.get(join);
    if (!waiters) {
      const list: Array<() => void> = [];
      waiters = list;
      this.joinWaiters.set(join, list);
      this.barrier(join).then(
        () => {
          this.joinWaiters.delete(join);
          for (const next of list) this.guarded(next);
        },
        (error: unknown) => this.walksDone?.reject(error),
      );
    }
    waiters.push(then);
  }

  /** The item's walk is over: its position goes, its results line is written, the last one settles all. */
  private walkEnded(token: number, start: PipelineItem): void {
    this.positions.delete(token);
    this.results?.finished(token, start, this.outcome.deadLetters);
    if (--this.walking === 0) this.walksDone?.resolve();
  }

  /** walk(), then the item's results line (walk takes the next token synchronously when called). */
  private walkRecorded(item: PipelineItem, entry: string): Promise<void> {
    const token = this.nextToken;
    const walked = this.walk(item, entry);
    return this.results ? walked.then(() => this.results!.finished(token, item, this.outcome.deadLetters)) : walked;
  }

  private async walk(start: PipelineItem, entry: string): Promise<void> {
    const token = this.nextToken++;
    let item: PipelineItem | undefined = start;
    let at: string | undefined = entry;
    const move = (stage: string, state: Position) => this.positions.set(token, stage, state);
    try {
      const shapeProblem = itemShapeProblem(start);
      if (shapeProblem) {
        this.outcome.stages[entry].entered += 1;
        return this.deadLetterItem(entry, start, { type: 'InvalidItem', message: shapeProblem }, 0);
      }
      while (at !== undefined && item !== undefined) {
        const stage: PipelineSpec['stages'][string] = this.spec.stages[at];
        const here: PipelineItem = item;
        this.outcome.stages[at].entered += 1;
        move(at, 'moving');
        switch (stage.kind) {
          case 'filter':
          case 'split':
          case 'reduce': {
            const next = this.pattern(at, stage, here);
            if (next === walkOver) return;
            at = next;
            break;
          }
          case 'activity':
          case 'shard': {
            const queue = this.queueFor(at, stage, here);
            if (queue === undefined) return;
            item = await this.enqueue(token, at, queue, here);
            if (item === undefined) return; // dead-lettered
            this.count(at, 'passed');
            at = stage.next;
            break;
          }
          case 'copy': {
            item = await this.enqueue(token, at, this.copyQueue(at), here);
            if (item === undefined) return;
            this.count(at, 'passed');
            at = undefined; // the branches carried the item on
            break;
          }
          case 'join':
            move(at, 'waiting');
            await this.barrier(at);
            this.count(at, 'passed');
            at = stage.next;
            break;
        }
      }
      this.outcome.completed += 1;
    } finally {
      this.positions.delete(token);
    }
  }

  /**
   * A pattern stage (filter, split, reduce), decided in workflow code for both walks: where the
   * item goes next (`undefined`: nowhere, it is done), or {@link walkOver} when it was dropped or
   * dead-lettered here.
   */
  private pattern(at: string, stage: FilterStage | SplitStage | ReduceStage, item: PipelineItem): Next {
    switch (stage.kind) {
      case 'filter': {
        const passes = this.decide(at, item, () => passesFilter(stage, item));
        if (passes === undefined) return walkOver;
        if (!passes) {
          this.count(at, 'dropped');
          this.outcome.dropped += 1;
          return walkOver;
        }
        this.count(at, 'passed');
        return stage.next;
      }
      case 'split': {
        const to = this.decide(at, item, () => routeOf(stage, item));
        if (to === undefined) return walkOver;
        this.count(at, 'passed');
        return to;
      }
      case 'reduce': {
        const acc = this.outcome.reduce[at] ?? emptyReduce();
        if (this.decide(at, item, () => addToReduce(stage, acc, item)) === undefined) return walkOver;
        this.outcome.reduce[at] = acc;
        this.count(at, 'passed');
        return undefined;
      }
    }
  }

  /**
   * A decision made in workflow code on item data (predicate, route, shard key, reduction). Item
   * data is untrusted: whatever it makes the decision throw ends as that item's dead letter
   * (`undefined`), never as a failed workflow task, which the server would retry forever.
   */
  private decide<T>(stage: string, item: PipelineItem, decision: () => T): T | undefined {
    try {
      return decision();
    } catch (error) {
      const reason = error instanceof Error ? error.message : itemText(error);
      this.deadLetterItem(stage, item, {
        type: 'InvalidItem',
        message: `stage "${stage}" cannot decide on this item's data (${reason}); fix the item and redrive it`,
      });
      return undefined;
    }
  }

  /**
   * Join: opens once no item can still arrive here (nothing left at any stage upstream), and,
   * for a run-wide join, once every other partition has got there too. One gate per join,
   * shared by all its items.
   */
  private barrier(join: string): Promise<void> {
    let gate = this.gates.get(join);
    if (!gate) {
      const upstream = this.upstream.get(join)!;
      gate = condition(() => [...upstream].every((stage) => this.positions.countAt(stage) === 0)).then(() =>
        this.ctx.runBarrier?.(join),
      );
      this.gates.set(join, gate);
    }
    return gate;
  }

  /**
   * The queue an item waits in at an activity or shard stage: per stage, per shard and per origin
   * (batches never mix sources, so each is fair-keyed). Undefined when the item's data cannot place
   * it (its shard key): it is dead-lettered here.
   */
  private queueFor(name: string, stage: ActivityStage | ShardStage, item: PipelineItem): WorkQueue | undefined {
    return this.decide(name, item, () => {
      const origin = item.origin ? `@${item.origin}` : '';
      if (stage.kind === 'shard') {
        const shard = shardOf(stage, item);
        const taskQueue = shardQueue(stage.queue, shard);
        if (!this.shardQueues.has(taskQueue)) {
          this.shardQueues.add(taskQueue);
          this.ctx.onShardQueue?.(taskQueue);
        }
        return this.queue(`${name}#${shard}${origin}`, name, taskQueue, stage.batchSize ?? 1, false, item.origin);
      }
      const taskQueue = stage.taskQueue ?? this.ctx.defaultActivityQueue;
      return this.queue(`${name}${origin}`, name, taskQueue, stage.batchSize ?? 1, false, item.origin);
    });
  }

  private copyQueue(name: string): WorkQueue {
    // A copy sends whole batches to its branches' child workflows; up to a partition at a time.
    return this.queue(name, name, '', Number.MAX_SAFE_INTEGER, false);
  }

  private queue(
    key: string,
    stage: string,
    taskQueue: string,
    batchSize: number,
    isolated: boolean,
    origin?: string,
  ): WorkQueue {
    let q = this.queues.get(key);
    if (!q) {
      q = { stage, taskQueue, origin, batchSize, isolated, waiting: [], batches: 0, active: 0 };
      this.queues.set(key, q);
    }
    return q;
  }

  private enqueue(token: number, stage: string, q: WorkQueue, item: PipelineItem): Promise<PipelineItem | undefined> {
    this.positions.set(token, stage, 'queued');
    return new Promise((resolve) => q.waiting.push({ token, item, resolve }));
  }

  /**
   * A queue may send a batch when full, or once no more items can join it soon: activity stages
   * wait for items upstream that are queued or held at a join (they arrive together), but not
   * for running calls, so a slow shard never holds others back; a copy sends its branches at
   * most one batch per partition, so it waits until nothing upstream remains.
   */
  private ready(q: WorkQueue): boolean {
    if (q.waiting.length === 0 || q.active >= this.ctx.concurrency) return false;
    if (q.isolated || q.waiting.length >= q.batchSize) return true;
    const upstream = this.upstream.get(q.stage)!;
    const isCopy = this.spec.stages[q.stage].kind === 'copy';
    // A copy waits for running calls upstream too; an activity stage does not.
    const holding: Position[] | undefined = isCopy ? undefined : ['moving', 'queued', 'waiting'];
    for (const stage of upstream) if (this.positions.countAt(stage, holding) > 0) return false;
    return true;
  }

  /** New work first; isolated retries after (the seeds' "new work before retries"). */
  private nextReady(): WorkQueue | undefined {
    // Round robin over the queues (stages, shards, origins), new work before isolated retries.
    const all = [...this.queues.values()];
    const start = (this.rotateOnDispatch ? this.rotation : this.rotation++) % Math.max(1, all.length);
    const rotated = [...all.slice(start), ...all.slice(0, start)];
    const next = rotated.find((q) => !q.isolated && this.ready(q)) ?? rotated.find((q) => q.isolated && this.ready(q));
    // The next look starts after the queue served now.
    if (next && this.rotateOnDispatch) this.rotation = all.indexOf(next) + 1;
    return next;
  }

  /** Whether any queue may send a batch: the dispatcher's wake-up test, free of side effects. */
  private anyReady(): boolean {
    for (const q of this.queues.values()) if (this.ready(q)) return true;
    return false;
  }

  /**
   * Sends ready batches. The window of `concurrency` calls is per queue, so a shard whose
   * workers are down fills only its own window and never holds back the healthy shards.
   */
  private async dispatchLoop(): Promise<void> {
    for (;;) {
      await condition(
        () => this.finished || (this.rotateOnDispatch ? this.anyReady() : this.nextReady() !== undefined),
      );
      // Items moved since the last wake (and, once finished, the last of them): emit their counts.
      this.metrics.flush();
      if (this.finished) return;
      let q: WorkQueue | undefined;
      while ((q = this.nextReady()) !== undefined) {
        const queue = q;
        const batch = queue.waiting.splice(0, queue.batchSize);
        queue.batches += 1;
        for (const w of batch) this.positions.set(w.token, queue.stage, 'running');
        queue.active += 1;
        const done =
          this.spec.stages[queue.stage].kind === 'copy' ? this.sendCopies(queue, batch) : this.sendBatch(queue, batch);
        void done.finally(() => (queue.active -= 1));
      }
    }
  }

  private stageActivity(q: WorkQueue, items: PipelineItem[]): StageActivity {
    const stage = this.spec.stages[q.stage] as ActivityStage | ShardStage;
    const who =
      items.length === 1 ? items[0].id : `${items.length} items, ${items[0].id} … ${items[items.length - 1].id}`;
    if (stage.kind === 'activity' && stage.local) {
      // On the workflow worker (src/workers/create-workers.ts): a marker in history, no task queue.
      const local = proxyLocalActivities<Record<string, StageActivity>>({
        summary: `${q.stage}${q.isolated ? ' (retry alone)' : ''}: ${who}`,
        startToCloseTimeout: parseDuration(stage.timeout ?? '') ?? 5 * 60_000,
        retry: retryPolicy(stage.retry),
      });
      return local[stage.activity];
    }
    const acts = proxyActivities<Record<string, StageActivity>>({
      summary: `${q.stage}${q.isolated ? ' (retry alone)' : ''}: ${who}`,
      taskQueue: q.taskQueue,
      startToCloseTimeout: parseDuration(stage.timeout ?? '') ?? 5 * 60_000,
      heartbeatTimeout: '30 seconds',
      retry: retryPolicy(stage.retry),
      ...(q.origin ? { priority: { fairnessKey: q.origin.slice(0, 64) } } : {}),
    });
    return acts[stage.activity];
  }

  private async sendBatch(q: WorkQueue, batch: Waiting[]): Promise<void> {
    // A single item is sent isolated: its failure is thrown, so Temporal's retry policy applies.
    const isolated = q.isolated || batch.length === 1;
    const call = {
      pipeline: this.ctx.pipeline,
      run: this.ctx.run,
      stage: q.stage,
      items: batch.map((w) => w.item),
      isolated,
      // Partitions recorded before the partition marker got every item's data echoed.
      ...(this.ctx.allPatches ? { keepsUnchanged: true } : {}),
    };
    let results: StageItemAnswer[] | undefined;
    let callError: unknown;
    try {
      results = await this.stageActivity(q, call.items)(call);
    } catch (error) {
      callError = error;
    }
    const byId = new Map((results ?? []).map((r) => [r.id, r]));
    for (const w of batch) {
      const r = byId.get(w.item.id);
      if (r?.ok) {
        // No data: the stage returned the item's data unchanged (see StageCall.keepsUnchanged).
        if (r.data === undefined) {
          w.resolve(w.item);
        } else {
          this.results?.updated(w.token, r.data);
          w.resolve({ ...w.item, data: r.data });
        }
      } else if (isolated || (r && !r.error.retryable)) {
        this.deadLetter(
          q,
          w,
          r ? { type: r.error.type, message: r.error.message } : describe(callError),
          r ? 1 : attemptsOf(this.spec, q, callError),
        );
      } else {
        // Failed inside a batch: retry it alone, under the stage's retry policy.
        const retryQueue = this.queue(
          `${q.stage}!${q.taskQueue}@${q.origin ?? ''}`,
          q.stage,
          q.taskQueue,
          1,
          true,
          q.origin,
        );
        this.positions.set(w.token, q.stage, 'queued');
        retryQueue.waiting.push(w);
      }
    }
  }

  private async sendCopies(q: WorkQueue, batch: Waiting[]): Promise<void> {
    const stage = this.spec.stages[q.stage];
    if (stage.kind !== 'copy') return;
    const items = batch.map((w) => w.item);
    const outcome = await this.ctx.runCopies(stage, q.stage, q.batches, items);
    mergeOutcome(this.outcome, outcome);
    for (const w of batch) w.resolve(w.item);
  }

  /** An item leaves a stage: counted in the outcome and for the metrics (not on replay). */
  private count(stage: string, outcome: keyof typeof stageOutcomeLabels): void {
    this.outcome.stages[stage][outcome] += 1;
    this.metrics.add(stage, stageOutcomeLabels[outcome]);
    // A filter drops the item it is deciding on: the one that entered a stage last.
    if (outcome === 'dropped') this.results?.droppedHere(stage);
  }

  private deadLetter(q: WorkQueue, w: Waiting, error: { type: string; message: string }, attempts: number): void {
    this.deadLetterItem(q.stage, w.item, error, attempts);
    w.resolve(undefined);
  }

  private deadLetterItem(
    stage: string,
    item: PipelineItem,
    error: { type: string; message: string },
    attempts = 0,
  ): void {
    this.outcome.deadLettered += 1;
    this.count(stage, 'deadLettered');
    const itemId = typeof item?.id === 'string' ? item.id : itemText(item?.id);
    // Through the worker's logger (JSON with workflowId and runId); not logged again on replay.
    log.warn('item dead-lettered', {
      pipeline: this.ctx.pipeline,
      run: this.ctx.run,
      stage,
      itemId,
      errorType: error.type,
      error: error.message,
      attempts,
    });
    this.outcome.deadLetters.push({ itemId, stage, error, attempts, input: item });
  }
}

/** Why an item (untrusted input) cannot walk the graph, or undefined when its shape is sound. */
function itemShapeProblem(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    return `an item must be an object {id, data}, not ${itemText(item)}`;
  const { id, data, origin } = item as Record<string, unknown>;
  if (typeof id !== 'string' || id === '') return `the item's id must be a non-empty string, not ${itemText(id)}`;
  if (data !== undefined && (typeof data !== 'object' || data === null || Array.isArray(data)))
    return `item "${id}": data must be an object, not ${itemText(data)}`;
  if (origin !== undefined && typeof origin !== 'string')
    return `item "${id}": origin must be a string, not ${itemText(origin)}`;
  return undefined;
}

function describe(error: unknown): { type: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof TimeoutFailure) return { type: 'Timeout', message: `timed out (${cause.timeoutType})` };
  return { type: 'Error', message: cause instanceof Error ? cause.message : String(cause) };
}

/** Attempts an item used: the policy's maximum when retries ran out, 1 for non-retryable errors. */
function attemptsOf(spec: PipelineSpec, q: WorkQueue, error: unknown): number {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (cause instanceof ApplicationFailure && cause.nonRetryable) return 1;
  const stage = spec.stages[q.stage] as ActivityStage | ShardStage;
  return (stage.retry ?? defaultRetry).maximumAttempts ?? 0;
}

/**
 * Adds a partition's or copy branch's outcome into another: stage counts, dead letters and
 * reductions always; item totals (`completed`, `dropped`) only for partitions (`asPartition`),
 * since a copied item is already counted once by the stream that copied it.
 */
export function mergeOutcome(into: EngineOutcome, from: EngineOutcome, asPartition = false): void {
  into.deadLettered += from.deadLettered;
  if (asPartition) {
    into.completed += from.completed;
    into.dropped += from.dropped;
  }
  into.deadLetters.push(...from.deadLetters);
  for (const [name, c] of Object.entries(from.stages)) {
    const t = (into.stages[name] ??= { entered: 0, passed: 0, dropped: 0, deadLettered: 0 });
    t.entered += c.entered;
    t.passed += c.passed;
    t.dropped += c.dropped;
    t.deadLettered += c.deadLettered;
  }
  for (const [name, r] of Object.entries(from.reduce)) {
    into.reduce[name] = into.reduce[name] ? mergeReduce(into.reduce[name], r) : r;
  }
}
