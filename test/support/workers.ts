import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import type { BatchConfig } from '../../src/infra/config';
import { autoHeartbeat } from '../../src/workers/auto-heartbeat';
import { sharedWorkflowBundle } from './servers';

type Activities = Record<string, (...args: never[]) => Promise<unknown>>;

/** One activity worker of a test: its task queue, activities and slots (connection and heartbeats are added). */
export type ActivityWorkerOptions = Omit<WorkerOptions, 'connection' | 'namespace' | 'workflowBundle'>;

/**
 * In-process workers for one test: the workflow queue (the shared workflow bundle) plus
 * `activityWorkers`. Runs `body` while they all poll, then shuts them down.
 */
export async function withWorkerSet<T>(
  env: TestWorkflowEnvironment,
  config: BatchConfig,
  activityWorkers: ActivityWorkerOptions[],
  body: () => Promise<T>,
): Promise<T> {
  const bundle = await sharedWorkflowBundle();
  const base = { connection: env.nativeConnection, namespace: config.namespace };
  const workers = await Promise.all([
    ...activityWorkers.map((options) =>
      Worker.create({ ...base, interceptors: { activity: [autoHeartbeat] }, ...options }),
    ),
    Worker.create({ ...base, taskQueue: config.queues.workflow, workflowBundle: bundle }),
  ]);
  // Nest runUntil so every worker polls while `body` runs and all shut down afterwards (the workflow worker last).
  const run = workers.reduce<() => Promise<T>>((inner, worker) => () => worker.runUntil(inner()), body);
  return run();
}

/**
 * In-process workers for one test: the workflow queue plus the video and image queues with the
 * given activities (real or stand-ins).
 */
export function withWorkers<T>(
  env: TestWorkflowEnvironment,
  config: BatchConfig,
  activities: { video: Activities; image: Activities },
  body: () => Promise<T>,
): Promise<T> {
  return withWorkerSet(
    env,
    config,
    [
      { taskQueue: config.queues.video, activities: activities.video },
      { taskQueue: config.queues.image, activities: activities.image },
    ],
    body,
  );
}
