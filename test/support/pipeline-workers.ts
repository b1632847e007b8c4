import { TestWorkflowEnvironment } from '@temporalio/testing';
import { reportActivities, stageActivities } from '../../src/activities/pipeline';
import type { BatchConfig } from '../../src/infra/config';
import { withWorkerSet } from './workers';

/**
 * In-process workers for pipeline tests: the workflow queue, the default stage queue and any
 * extra activity queues (e.g. shard queues), all running the real built-in stage and report activities.
 */
export function withPipelineWorkers<T>(
  env: TestWorkflowEnvironment,
  config: BatchConfig,
  extraQueues: string[],
  body: () => Promise<T>,
): Promise<T> {
  const activities = { ...stageActivities, ...reportActivities };
  const queues = [config.queues.stages, ...extraQueues].map((taskQueue) => ({ taskQueue, activities }));
  return withWorkerSet(env, config, queues, body);
}
