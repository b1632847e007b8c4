/**
 * The transcode flow as a pipeline (upload → probe → render → manifest), run by the generic engine
 * (src/workflows/pipeline.ts): partitions, dead letters, progress and results come from it, so a run of 10,000
 * uploads keeps every history and payload small. Built in TypeScript because its stages run on the video task
 * queue, which the configuration names. Pure (workflow-safe).
 *
 *   probe     ffprobe each upload and plan its ladder (batches of 8: probing is quick)
 *   render    the item's whole ladder in one call (see src/activities/transcode/stages.ts for why)
 *   manifest  ffprobe the written files into manifest.json (batches of 8)
 */
import { activity, definePipeline } from './builder';
import type { PipelineSpec, RetrySpec } from './spec';

export const transcodePipelineName = 'transcode';

/** Stage names, for the summary and redrives. */
export const transcodeStages = { probe: 'probe', render: 'render', manifest: 'manifest' } as const;

/** As the first flow retried: 1 s, ×2, 5 attempts; bad input (InvalidInput) never, the engine adds it. */
const retry: RetrySpec = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 5,
};

export interface TranscodePipelineOptions {
  /** Task queue of the video workers (ffprobe, ffmpeg): the configuration's `queues.video`. */
  videoQueue: string;
  /** Items per partition workflow (default 200). */
  partitionSize?: number;
}

export function transcodePipeline(options: TranscodePipelineOptions): PipelineSpec {
  const taskQueue = options.videoQueue;
  return definePipeline({
    name: transcodePipelineName,
    description: 'Uploaded videos probed, rendered to a ladder that never goes above the source, with a manifest',
    start: transcodeStages.probe,
    partitionSize: options.partitionSize ?? 200,
    // Calls in flight per stage and partition; the video workers' own limit (2 each) paces ffmpeg.
    concurrency: 4,
    stages: {
      probe: activity('transcode-probe', { taskQueue, batchSize: 8, timeout: '5 minutes', retry, next: 'render' }),
      // A long 4K upload's whole ladder; a dead worker is noticed by the heartbeat timeout, not this.
      render: activity('transcode-render', { taskQueue, batchSize: 1, timeout: '4 hours', retry, next: 'manifest' }),
      manifest: activity('transcode-manifest', { taskQueue, batchSize: 8, timeout: '5 minutes', retry }),
    },
  });
}
