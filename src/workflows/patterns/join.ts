/**
 * Join, or barrier synchronization (seeds, ch. 12): a stage starts only when every branch and
 * partition before it has finished. Inside a partition the engine holds items at the join until
 * nothing upstream remains; across partitions the run coordinates by signals: each partition
 * reports `joinReached` and waits; when every partition has reached the join (or finished
 * without needing it) the run sends `joinReleased` to those waiting.
 */
import { condition, defineSignal, getExternalWorkflowHandle, setHandler } from '@temporalio/workflow';

/** Partition → run: this partition has nothing left upstream of `join`. */
export const joinReachedSignal = defineSignal<[join: string, partition: number]>('joinReached');
/** Run → partition: every partition reached `join`; let the items through. */
export const joinReleasedSignal = defineSignal<[join: string]>('joinReleased');

/** Partition side: a barrier that tells the run and waits for its release. */
export function partitionBarrier(runWorkflowId: string, partition: number): (join: string) => Promise<void> {
  const released = new Set<string>();
  setHandler(joinReleasedSignal, (join) => void released.add(join));
  return async (join) => {
    await getExternalWorkflowHandle(runWorkflowId).signal(joinReachedSignal, join, partition);
    await condition(() => released.has(join));
  };
}

/**
 * Run side: releases each join once all `partitions` reached it or are `closed` (finished).
 * `partitionId(k)` is the workflow ID of partition k. Resolves when every join is released.
 */
export function coordinateJoins(
  joins: string[],
  partitions: number,
  closed: Set<number>,
  partitionId: (k: number) => string,
): Promise<void[]> {
  const reached = new Map<string, Set<number>>(joins.map((join) => [join, new Set<number>()]));
  setHandler(joinReachedSignal, (join, partition) => void reached.get(join)?.add(partition));
  return Promise.all(
    joins.map(async (join) => {
      const got = reached.get(join)!;
      await condition(() => [...Array(partitions).keys()].every((k) => got.has(k) || closed.has(k)));
      const waiting = [...got].filter((k) => !closed.has(k)).sort((a, b) => a - b);
      await Promise.all(waiting.map((k) => getExternalWorkflowHandle(partitionId(k)).signal(joinReleasedSignal, join)));
    }),
  );
}
