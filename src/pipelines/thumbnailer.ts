/**
 * The video thumbnailer as a pipeline (seeds, chapter 10 "Hands On"): every video passes a chain
 * of work queues — a representative frame (ffmpeg, on the video queue) → thumbnails (sharp, on
 * the image queue) — and at the end of the run the contact-sheets report puts every thumbnail on
 * sheets of at most 1,000 (src/activities/thumbnailer/contact-sheets-report.ts). Runs on the pipeline
 * engine: partitions, dead letters with reasons, progress, results parts. Pure (workflow-safe).
 */
import type { RetrySpec } from './spec';
import { activity, definePipeline } from './builder';

export const thumbnailerPipeline = 'thumbnailer';

export interface ThumbnailerSpecOptions {
  /** Task queues of the ffmpeg and the sharp workers (they scale apart). */
  queues: { video: string; image: string };
  /** Activity calls in flight per partition and stage (default 4). */
  concurrency?: number;
  retry?: RetrySpec;
  /**
   * Items per activity call (default 1 frame, 2 thumbnail sets): ffmpeg work is heavy, so batching
   * saves little there; large runs of small files may batch more (fewer history events per item).
   */
  batchSizes?: { extract?: number; thumbnails?: number };
}

/** Bad input (`InvalidInput`) is never retried; anything else up to 5 times. */
export const thumbnailerRetry: RetrySpec = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 5,
};

export function thumbnailerSpec(options: ThumbnailerSpecOptions) {
  const retry = options.retry ?? thumbnailerRetry;
  return definePipeline({
    name: thumbnailerPipeline,
    description: 'A representative frame of each video (ffmpeg), thumbnails of it (sharp), contact sheets of the run',
    start: 'extract-frame',
    // Results parts, their summary and the contact sheets: on the (quick) image workers.
    activityQueue: options.queues.image,
    partitionSize: 500,
    concurrency: options.concurrency ?? 4,
    stages: {
      'extract-frame': activity('extract-frame', {
        taskQueue: options.queues.video,
        batchSize: options.batchSizes?.extract ?? 1,
        timeout: '10 minutes',
        retry,
        next: 'make-thumbnails',
      }),
      'make-thumbnails': activity('make-thumbnails', {
        taskQueue: options.queues.image,
        batchSize: options.batchSizes?.thumbnails ?? 2,
        timeout: '10 minutes',
        retry,
        next: 'contact-sheets',
      }),
      'contact-sheets': { kind: 'reduce', report: { activity: 'contact-sheets' } },
    },
  });
}
