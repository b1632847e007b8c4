/**
 * Kept for replay: the first upload → transcode flow. New runs are runs of the transcode pipeline on the generic
 * engine (src/pipelines/transcode.ts, workflow `pipelineRun`); this type stays registered so its recorded histories
 * (test/histories/transcode-run-*.json) and runs started before the change still replay.
 *
 * The upload → transcode flow (workflow ID `transcode/<run>`): a run of uploaded videos, one child workflow per
 * upload (`transcode/<run>/<upload>`, see transcode-upload.ts) in a bounded window. A failed upload — not a video,
 * corrupt — is recorded with the stage and reason that ended it while the others complete; the `progress` query
 * counts uploads done, succeeded, failed and running.
 */
import {
  ActivityFailure,
  ChildWorkflowFailure,
  continueAsNew,
  defineQuery,
  executeChild,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Upload } from '../../activities/transcode/types';
import { BatchStage, runSearchAttributes } from '../../core/search-attributes';
import type { BatchProgress, ItemOutcome, WorkItem } from '../../core/work-item';
import { BatchState, BatchTracker, runBatch } from '../batch';
import type { TranscodeQueues } from './transcode-activities';
import { TranscodeUploadResult, transcodeUpload } from './transcode-upload';

export interface TranscodeRunInput {
  run: string;
  uploads: Upload[];
  queues: TranscodeQueues;
  /** Uploads transcoded at once (default 2); their renditions share the video workers. */
  concurrency?: number;
  /** Carried across continue-as-new; absent on the first execution. */
  state?: BatchState<TranscodeUploadResult>;
}

export interface TranscodeRunResult {
  run: string;
  progress: BatchProgress;
  /** One per upload, in the order they finished; failures carry the stage and reason. */
  outcomes: ItemOutcome<TranscodeUploadResult>[];
}

export const transcodeProgressQuery = defineQuery<BatchProgress>('progress');

/**
 * The failure that really ended an upload: the innermost of child workflow → (child workflow →) activity, and the
 * activity's name as the stage, so a person reads "probeUpload: … is not a video" rather than "child failed".
 */
function rootCause(error: unknown): { stage: string; cause: unknown } {
  let cause = error;
  while (cause instanceof ChildWorkflowFailure && cause.cause) cause = cause.cause;
  return { stage: cause instanceof ActivityFailure ? cause.activityType : 'transcodeUpload', cause };
}

export async function transcode(input: TranscodeRunInput): Promise<TranscodeRunResult> {
  const state: BatchState<TranscodeUploadResult> = input.state ?? { nextIndex: 0, outcomes: [] };
  const tracker = new BatchTracker<TranscodeUploadResult>(input.uploads.length, state.outcomes);
  setHandler(transcodeProgressQuery, () => tracker.progress());
  upsertSearchAttributes(runSearchAttributes('transcode', input.run, 'transcoding'));
  const items: WorkItem<Upload>[] = input.uploads.map((upload) => ({ id: upload.id, payload: upload }));

  const { mustContinue } = await runBatch(
    items,
    tracker,
    state,
    { concurrency: input.concurrency ?? 2 },
    async ({ payload: upload }, stage) => {
      stage('transcoding');
      try {
        return await executeChild(transcodeUpload, {
          workflowId: `${workflowInfo().workflowId}/${upload.id}`,
          taskQueue: input.queues.workflow,
          staticSummary: `${upload.name}: probe → renditions → manifest`,
          typedSearchAttributes: runSearchAttributes('transcode', input.run, 'probe'),
          args: [{ run: input.run, upload, queues: input.queues }],
        });
      } catch (error) {
        const root = rootCause(error);
        stage(root.stage);
        throw root.cause;
      }
    },
  );
  if (mustContinue) await continueAsNew<typeof transcode>({ ...input, state });

  upsertSearchAttributes([{ key: BatchStage, value: 'done' }]);
  return { run: input.run, progress: tracker.progress(), outcomes: state.outcomes };
}
