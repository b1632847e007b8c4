import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTranscodeActivities } from '../../src/activities/transcode';
import type { BlobStore } from '../../src/storage/blob-store';
import type { BatchConfig } from '../../src/infra/config';
import { withWorkerSet } from './workers';

/**
 * In-process workers for a transcode run on the pipeline engine: the workflow queue and the video queue (the
 * transcode stages, reading `store`, and the engine's bookkeeping of the run: item pages, results parts, summary).
 */
export function withTranscodeWorkers<T>(
  env: TestWorkflowEnvironment,
  config: BatchConfig,
  store: BlobStore,
  body: () => Promise<T>,
): Promise<T> {
  const video = {
    taskQueue: config.queues.video,
    activities: createTranscodeActivities(store),
    maxConcurrentActivityTaskExecutions: 2,
  };
  return withWorkerSet(env, config, [video], body);
}
