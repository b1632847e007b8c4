/**
 * The batch-run core: process work items with a bounded window of concurrency, record every
 * item's outcome, and never let one bad item fail the run. Deterministic workflow code only.
 *
 * Histories are bounded, so a long batch hands its state to a fresh execution via
 * continue-as-new: `runBatch` stops launching items when the server suggests it (or after
 * `itemsPerExecution`), drains the window and returns the state to carry.
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure, workflowInfo } from '@temporalio/workflow';
import type { BatchProgress, ItemFailure, ItemOutcome, WorkItem } from '../core/work-item';

export interface BatchState<R> {
  /** Index of the next item to launch. */
  nextIndex: number;
  outcomes: ItemOutcome<R>[];
}

export interface BatchOptions {
  concurrency: number;
  /** Hand over to a new execution after this many items were launched in this one. */
  itemsPerExecution?: number;
}

/** Per-item processing: `stage(name)` tells the tracker which stage the item is in. */
export type ItemProcessor<P, R> = (item: WorkItem<P>, stage: (name: string) => void) => Promise<R>;

export interface BatchResult<R> {
  state: BatchState<R>;
  /** True when items remain and the caller must continue-as-new with `state`. */
  mustContinue: boolean;
}

/** Live counters for the `progress` query, shared between `runBatch` and the workflow. */
export class BatchTracker<R> {
  readonly stages = new Map<string, string>();
  constructor(
    readonly total: number,
    readonly outcomes: ItemOutcome<R>[],
  ) {}

  progress(): BatchProgress {
    const succeeded = this.outcomes.filter((o) => o.status === 'succeeded').length;
    const runningByStage: Record<string, number> = {};
    for (const stage of this.stages.values()) runningByStage[stage] = (runningByStage[stage] ?? 0) + 1;
    return {
      total: this.total,
      done: this.outcomes.length,
      succeeded,
      failed: this.outcomes.length - succeeded,
      running: this.stages.size,
      runningByStage,
    };
  }
}

/** Turns an activity failure into a reason a person can act on. */
export function describeFailure(stage: string, error: unknown): ItemFailure {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    return { stage, type: cause.type ?? 'Error', message: cause.message };
  }
  if (cause instanceof TimeoutFailure) {
    return { stage, type: 'Timeout', message: `${stage} timed out (${cause.timeoutType}) on every attempt` };
  }
  return { stage, type: 'Error', message: error instanceof Error ? error.message : String(error) };
}

/** Sets a failed item aside (e.g. records it with its reason); must not throw for good behaviour. */
export type FailureHandler<P> = (item: WorkItem<P>, failure: ItemFailure) => Promise<void>;

export async function runBatch<P, R>(
  items: WorkItem<P>[],
  tracker: BatchTracker<R>,
  state: BatchState<R>,
  options: BatchOptions,
  processItem: ItemProcessor<P, R>,
  onFailed?: FailureHandler<P>,
): Promise<BatchResult<R>> {
  const inFlight = new Set<Promise<void>>();
  let launchedHere = 0;
  let next = state.nextIndex;
  const shouldHandOver = () =>
    workflowInfo().continueAsNewSuggested ||
    (options.itemsPerExecution !== undefined && launchedHere >= options.itemsPerExecution);

  const settle = async (item: WorkItem<P>): Promise<void> => {
    let current = 'start';
    const stage = (name: string) => {
      current = name;
      tracker.stages.set(item.id, name);
    };
    stage(current);
    let outcome: ItemOutcome<R>;
    try {
      outcome = { itemId: item.id, status: 'succeeded', result: await processItem(item, stage) };
    } catch (error) {
      const failure = describeFailure(current, error);
      if (onFailed) {
        try {
          await onFailed(item, failure);
        } catch (asideError) {
          failure.message += ` (setting the item aside failed too: ${describeFailure('setAside', asideError).message})`;
        }
      }
      outcome = { itemId: item.id, status: 'failed', failure };
    }
    tracker.stages.delete(item.id);
    state.outcomes.push(outcome);
  };

  while (next < items.length && !shouldHandOver()) {
    if (inFlight.size >= Math.max(1, options.concurrency)) {
      await Promise.race(inFlight);
      continue;
    }
    const task: Promise<void> = settle(items[next]).finally(() => inFlight.delete(task));
    inFlight.add(task);
    next += 1;
    launchedHere += 1;
  }
  await Promise.all(inFlight);
  state.nextIndex = next;
  return { state, mustContinue: next < items.length };
}
