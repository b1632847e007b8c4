import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { BatchConfig } from '../../src/infra/config';
import { autoHeartbeat } from '../../src/workers/auto-heartbeat';
import { sharedWorkflowBundle } from './servers';

type Activities = Record<string, (...args: never[]) => Promise<unknown>>;

/**
 * In-process workers for one test: the workflow queue plus the video and image queues with the
 * given activities (real or stand-ins). Runs `body` while they poll, then shuts them down.
 */
export async function withWorkers<T>(
  env: TestWorkflowEnvironment,
  config: BatchConfig,
  activities: { video: Activities; image: Activities },
  body: () => Promise<T>,
): Promise<T> {
  const bundle = await sharedWorkflowBundle();
  const base = {
    connection: env.nativeConnection,
    namespace: config.namespace,
    interceptors: { activity: [autoHeartbeat] },
  };
  const workers = await Promise.all([
    Worker.create({ ...base, taskQueue: config.queues.workflow, workflowBundle: bundle }),
    Worker.create({ ...base, taskQueue: config.queues.video, activities: activities.video }),
    Worker.create({ ...base, taskQueue: config.queues.image, activities: activities.image }),
  ]);
  const [first, ...rest] = workers;
  // Nest runUntil so every worker polls while `body` runs and all shut down afterwards.
  const run = rest.reduce<() => Promise<T>>((inner, worker) => () => worker.runUntil(inner()), body);
  return first.runUntil(run());
}
