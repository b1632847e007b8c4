/**
 * Starts a thumbnailer run: the `thumbnailer` pipeline (src/pipelines/thumbnailer.ts) on the
 * pipeline engine, workflow ID `thumbnailer/<run>`, outputs under key
 * `outputs/thumbnailer/<run>/` of the store (`<dataDir>/outputs/thumbnailer/<run>/` on the local backend), every item's line under `<dataDir>/results/thumbnailer/<run>/`.
 * (Runs of the older `thumbnailer` workflow type, src/workflows/flows/thumbnailer.ts, still replay.)
 */
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { DEFAULT_THUMBNAIL_SIZES, ThumbnailSpec } from '../activities/thumbnailer/types';
import { runOutputDir } from '../activities/pipeline/run-outputs';
import type { WorkItem } from '../core/work-item';
import type { PipelineItem, RetrySpec } from '../pipelines/spec';
import { thumbnailerSpec, type ThumbnailerSpecOptions } from '../pipelines/thumbnailer';
import type { BatchConfig } from '../infra/config';
import type { pipelineRun } from '../workflows/pipeline';
import { pipelineWorkflowId, startPipelineRun } from './pipeline-run';

export interface VideoPayload {
  /** Path of the video file, or its `s3://bucket/key` URI; media travel by reference, never inline. */
  path: string;
}

export interface ThumbnailerRunOptions {
  /** Names the run: workflow ID `thumbnailer/<runName>`, outputs in {@link thumbnailerOutputDir}. */
  runName: string;
  items: WorkItem<VideoPayload>[];
  /** Default: 320 px JPEG and 640 px WebP. */
  sizes?: ThumbnailSpec[];
  /** Activity calls in flight per partition and stage (default 4). */
  concurrency?: number;
  retry?: RetrySpec;
  /** Partitions (of 500 items) running at once (default 4). */
  partitionWindow?: number;
  /** Items per activity call of each stage (see ThumbnailerSpecOptions). */
  batchSizes?: ThumbnailerSpecOptions['batchSizes'];
}

export const thumbnailerWorkflowId = (runName: string) => pipelineWorkflowId('thumbnailer', runName);

/** `<dataDir>/outputs/thumbnailer/<run>`: `<item>/frame.png`, `<item>/thumb-<width>.<ext>`, `contact-sheet-NNN.jpg`. */
export const thumbnailerOutputDir = (runName: string) => runOutputDir('thumbnailer', runName);

/** Drops repeated item IDs (the same file given twice) so each item has one set of outputs. */
export function uniqueItems<P>(items: WorkItem<P>[]): WorkItem<P>[] {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(item.id) && seen.add(item.id));
}

/** Starts a thumbnailer run; a second start of the same run name starts nothing and returns the first. */
export async function startThumbnailerRun(
  client: Client,
  config: BatchConfig,
  options: ThumbnailerRunOptions,
): Promise<WorkflowHandle<typeof pipelineRun>> {
  if (options.items.length === 0) throw new Error('Nothing to do: the inputs hold no files.');
  const spec = thumbnailerSpec({
    queues: { video: config.queues.video, image: config.queues.image },
    concurrency: options.concurrency,
    retry: options.retry,
    batchSizes: options.batchSizes,
  });
  // Sizes travel with the items only when they differ from the defaults: payloads stay small.
  const sizes =
    options.sizes && JSON.stringify(options.sizes) !== JSON.stringify(DEFAULT_THUMBNAIL_SIZES)
      ? options.sizes
      : undefined;
  const items: PipelineItem[] = uniqueItems(options.items).map(({ id, payload }) => ({
    id,
    // An s3:// URI stays as it is (any worker host downloads it); a local path is made absolute.
    data: {
      path: payload.path.startsWith('s3://') ? payload.path : path.resolve(payload.path),
      ...(sizes ? { sizes } : {}),
    },
  }));
  return startPipelineRun(
    client,
    config,
    spec,
    { items },
    { runName: options.runName, partitionWindow: options.partitionWindow },
  );
}
