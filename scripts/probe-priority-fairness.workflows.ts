// Workflows for scripts/probe-priority-fairness.ts (bundled separately, so they live in their own file).
import type { Priority } from '@temporalio/common';
import { proxyActivities, proxySinks, sleep, workflowInfo, type Sinks } from '@temporalio/workflow';

/** One group of identical activity tasks: `count` tasks labelled `${label}-1…count`, all with `priority`. */
export interface ProbeBatch {
  label: string;
  count: number;
  priority: Priority;
}

export interface ProbeActivities {
  probeTask(label: string): Promise<void>;
}

export interface ProbeSinks extends Sinks {
  probe: {
    /** Called (outside the isolate, after the activation) when a probe workflow runs its first workflow task. */
    workflowTaskRan(label: string, priorityKey: number | undefined): void;
  };
}

/**
 * Schedules the batches' activities on `activityTaskQueue`, one batch after the other (a short timer between
 * batches, so that each batch reaches the task queue's backlog before the next one), then waits for all of them.
 * Nothing polls `activityTaskQueue` until the script starts its activity worker, so the tasks pile up as a backlog.
 */
export async function enqueueActivityBatches(activityTaskQueue: string, batches: ProbeBatch[]): Promise<number> {
  const pending: Promise<void>[] = [];
  for (const [index, batch] of batches.entries()) {
    if (index > 0) await sleep('1 second');
    const { probeTask } = proxyActivities<ProbeActivities>({
      taskQueue: activityTaskQueue,
      startToCloseTimeout: '1 minute',
      retry: { maximumAttempts: 1 },
      priority: batch.priority,
    });
    for (let i = 1; i <= batch.count; i++) pending.push(probeTask(`${batch.label}-${i}`));
  }
  await Promise.all(pending);
  return pending.length;
}

const { probe } = proxySinks<ProbeSinks>();

/** Does nothing but report (through a sink) that its first workflow task ran, and the priority it was started with. */
export async function workflowTaskProbe(label: string): Promise<void> {
  probe.workflowTaskRan(label, workflowInfo().priority?.priorityKey);
}
