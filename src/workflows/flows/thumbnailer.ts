/**
 * The video thumbnailer (seeds, chapter 10 "Hands On"), built as a work queue with the
 * multi-worker pattern: every video passes a chain of workers on their own task queues:
 *   extract a representative frame (ffmpeg, video queue) → resize and write thumbnails
 *   (sharp, image queue); then one contact sheet of the run joins all items.
 * A bad video ends as a failed outcome and is set aside with its reason; the run goes on.
 */
import { continueAsNew, defineQuery, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type * as batchActivities from '../../activities/batch';
import type * as mediaActivities from '../../activities/thumbnailer';
import type {
  ContactSheetFile,
  ExtractedFrame,
  ThumbnailFile,
  ThumbnailSpec,
} from '../../activities/thumbnailer/types';
import type { BatchProgress, ItemOutcome, WorkItem } from '../../core/work-item';
import { BatchStage } from '../../core/search-attributes';
import { BatchState, BatchTracker, runBatch } from '../batch';

export interface VideoPayload {
  /** Absolute path of the video file; media travel by reference, never inline. */
  path: string;
}

export interface ThumbnailerInput {
  items: WorkItem<VideoPayload>[];
  /** The run's output folder: `<outputDir>/<itemId>/thumb-<width>.<ext>` and `contact-sheet.jpg`. */
  outputDir: string;
  sizes: ThumbnailSpec[];
  concurrency: number;
  queues: { video: string; image: string };
  /** Retry policy of every stage; bad input (`InvalidInput`) is never retried. */
  retry?: RetryPolicy;
  itemsPerExecution?: number;
  /** Carried across continue-as-new; absent on the first execution. */
  state?: BatchState<ThumbnailResult>;
}

export interface ThumbnailResult {
  frame: Pick<ExtractedFrame, 'framePath' | 'atSeconds' | 'width' | 'height'>;
  thumbnails: ThumbnailFile[];
}

export interface ThumbnailerResult {
  progress: BatchProgress;
  outcomes: ItemOutcome<ThumbnailResult>[];
  contactSheet?: ContactSheetFile;
}

export const progressQuery = defineQuery<BatchProgress>('progress');

const defaultRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 5,
};

function stageActivities(input: ThumbnailerInput) {
  // A given policy replaces the default whole: mixing could pair a long initial interval with
  // the default's short maximum, which the server rejects.
  const retry: RetryPolicy = { ...(input.retry ?? defaultRetry), nonRetryableErrorTypes: ['InvalidInput'] };
  // Workers heartbeat for every running activity (src/workers/auto-heartbeat.ts), so a killed
  // worker's activities are retried elsewhere within the heartbeat timeout, not at startToClose.
  const video = proxyActivities<typeof mediaActivities>({
    taskQueue: input.queues.video,
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '15 seconds',
    retry,
  });
  const image = proxyActivities<typeof mediaActivities & typeof batchActivities>({
    taskQueue: input.queues.image,
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '15 seconds',
    retry,
  });
  return { video, image };
}

export async function thumbnailer(input: ThumbnailerInput): Promise<ThumbnailerResult> {
  const state: BatchState<ThumbnailResult> = input.state ?? { nextIndex: 0, outcomes: [] };
  const tracker = new BatchTracker<ThumbnailResult>(input.items.length, state.outcomes);
  setHandler(progressQuery, () => tracker.progress());
  upsertSearchAttributes([{ key: BatchStage, value: 'thumbnails' }]);
  const { video, image } = stageActivities(input);

  const { mustContinue } = await runBatch(
    input.items,
    tracker,
    state,
    { concurrency: input.concurrency, itemsPerExecution: input.itemsPerExecution },
    async (item, stage) => {
      stage('extractFrame');
      const frame = await video.extractFrame({
        itemId: item.id,
        videoPath: item.payload.path,
        outputDir: input.outputDir,
      });
      stage('makeThumbnails');
      const thumbnails = await image.makeThumbnails({
        itemId: item.id,
        framePath: frame.framePath,
        outputDir: input.outputDir,
        sizes: input.sizes,
      });
      const { framePath, atSeconds, width, height } = frame;
      return { frame: { framePath, atSeconds, width, height }, thumbnails };
    },
    async (item, failure) => {
      await image.setAsideItem({ outputDir: input.outputDir, item, failure });
    },
  );
  if (mustContinue) {
    await continueAsNew<typeof thumbnailer>({ ...input, state });
  }

  upsertSearchAttributes([{ key: BatchStage, value: 'contact-sheet' }]);
  const entries = state.outcomes.flatMap((o) =>
    o.status === 'succeeded' && o.result.thumbnails.length > 0
      ? [{ itemId: o.itemId, thumbnailPath: o.result.thumbnails[0].path }]
      : [],
  );
  const contactSheet =
    entries.length > 0 ? await image.makeContactSheet({ outputDir: input.outputDir, entries }) : undefined;
  upsertSearchAttributes([{ key: BatchStage, value: 'done' }]);
  return { progress: tracker.progress(), outcomes: state.outcomes, contactSheet };
}
