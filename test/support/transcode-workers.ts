import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createTranscodeActivities } from '../../src/activities/transcode';
import type { BlobStore } from '../../src/storage/blob-store';
import type { BatchConfig } from '../../src/infra/config';
import { autoHeartbeat } from '../../src/workers/auto-heartbeat';
import { sharedWorkflowBundle } from './servers';

/**
 * In-process workers for a transcode run on the pipeline engine: the workflow queue and the video queue (the
 * transcode stages, reading `store`, and the engine's bookkeeping of the run: item pages, results parts, summary).
 */
export async function withTranscodeWorkers<T>(
  env: TestWorkflowEnvironment,
  config: BatchConfig,
  store: BlobStore,
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
    Worker.create({
      ...base,
      taskQueue: config.queues.video,
      activities: createTranscodeActivities(store),
      maxConcurrentActivityTaskExecutions: 2,
    }),
  ]);
  const [first, ...rest] = workers;
  const run = rest.reduce<() => Promise<T>>((inner, worker) => () => worker.runUntil(inner()), body);
  return first.runUntil(run());
}
