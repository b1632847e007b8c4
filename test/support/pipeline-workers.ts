import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { reportActivities, stageActivities } from '../../src/activities/pipeline';
import type { BatchConfig } from '../../src/infra/config';
import { autoHeartbeat } from '../../src/workers/auto-heartbeat';
import { sharedWorkflowBundle } from './servers';

/**
 * In-process workers for pipeline tests: the workflow queue, the default stage queue and any
 * extra activity queues (e.g. shard queues), all running the real built-in stage and report activities.
 */
export async function withPipelineWorkers<T>(
  env: TestWorkflowEnvironment,
  config: BatchConfig,
  extraQueues: string[],
  body: () => Promise<T>,
): Promise<T> {
  const bundle = await sharedWorkflowBundle();
  const base = { connection: env.nativeConnection, namespace: config.namespace };
  const workers = await Promise.all([
    Worker.create({ ...base, taskQueue: config.queues.workflow, workflowBundle: bundle }),
    ...[config.queues.stages, ...extraQueues].map((taskQueue) =>
      Worker.create({
        ...base,
        taskQueue,
        activities: { ...stageActivities, ...reportActivities },
        interceptors: { activity: [autoHeartbeat] },
      }),
    ),
  ]);
  const run = workers.reduce<() => Promise<T>>((inner, worker) => () => worker.runUntil(inner()), body);
  return run();
}
