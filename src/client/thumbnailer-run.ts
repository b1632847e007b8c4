import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { RetryPolicy } from '@temporalio/common';
import { DEFAULT_THUMBNAIL_SIZES, ThumbnailSpec } from '../activities/media/types';
import type { WorkItem } from '../core/work-item';
import { runSearchAttributes } from '../core/search-attributes';
import type { BatchConfig } from '../runtime/config';
import type { thumbnailer, VideoPayload } from '../workflows/thumbnailer';

export interface ThumbnailerRunOptions {
  /** Names the run: workflow ID `thumbnailer/<runName>`, outputs under `outputDir`. */
  runName: string;
  items: WorkItem<VideoPayload>[];
  outputDir: string;
  sizes?: ThumbnailSpec[];
  concurrency?: number;
  retry?: RetryPolicy;
}

export const thumbnailerWorkflowId = (runName: string) => `thumbnailer/${runName}`;

/** Drops repeated item IDs (the same file given twice) so each item has one set of outputs. */
export function uniqueItems<P>(items: WorkItem<P>[]): WorkItem<P>[] {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(item.id) && seen.add(item.id));
}

/** Starts a thumbnailer run; a second start of the same run name is rejected by the server. */
export async function startThumbnailerRun(
  client: Client,
  config: BatchConfig,
  options: ThumbnailerRunOptions,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof thumbnailer>> {
  if (options.items.length === 0) throw new Error('Nothing to do: the inputs hold no files.');
  return client.workflow.start<typeof thumbnailer>('thumbnailer', {
    workflowId: thumbnailerWorkflowId(options.runName),
    taskQueue: config.queues.workflow,
    args: [
      {
        items: uniqueItems(options.items),
        outputDir: options.outputDir,
        sizes: options.sizes ?? DEFAULT_THUMBNAIL_SIZES,
        concurrency: options.concurrency ?? 4,
        queues: { video: config.queues.video, image: config.queues.image },
        retry: options.retry,
      },
    ],
    typedSearchAttributes: runSearchAttributes('thumbnailer', options.runName, 'queued'),
  });
}
