/**
 * Starting a transcode run: the input files go into the blob store (content-addressed), and the run workflow
 * `transcode/<run>` gets their `blob://` URIs — never the media themselves.
 */
import path from 'node:path';
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { Upload } from '../activities/transcode/types';
import { runSearchAttributes } from '../core/search-attributes';
import type { WorkItem } from '../core/work-item';
import type { BlobStore } from '../runtime/blob-store';
import { type BatchConfig, workflowUrl } from '../runtime/config';
import type { FilePayload } from '../sources';
import type { transcode } from '../workflows/flows/transcode';
import { uniqueItems } from './thumbnailer-run';

export const transcodeWorkflowId = (runName: string) => `transcode/${runName}`;

/**
 * Puts each input file into the blob store and describes it as an upload. The item ID (from the source: a slug of
 * the name and a hash of the path) names the upload's child workflow; a file given twice is uploaded once.
 */
export async function uploadFiles(store: BlobStore, items: WorkItem<FilePayload>[]): Promise<Upload[]> {
  const uploads: Upload[] = [];
  for (const item of uniqueItems(items)) {
    const blob = await store.put(item.payload.path);
    const name = path.basename(item.payload.path);
    uploads.push({ id: item.id, name, uri: blob.uri, sha256: blob.sha256, bytes: blob.bytes });
  }
  return uploads;
}

export interface TranscodeRunOptions {
  /** Names the run: workflow ID `transcode/<runName>`; a second start of the same name is refused by the server. */
  runName: string;
  uploads: Upload[];
  /** Uploads at once (default 2). */
  concurrency?: number;
}

/** `started: false`: a run of this name existed already (running or finished); nothing new was started. */
export type SubmittedTranscodeRun =
  | { started: true; handle: WorkflowHandleWithFirstExecutionRunId<typeof transcode> }
  | { started: false; handle: WorkflowHandle<typeof transcode> };

/** Starts a transcode run, or finds the one of the same name (the event router's at-most-once delivery). */
export async function submitTranscodeRun(
  client: Client,
  config: BatchConfig,
  options: TranscodeRunOptions,
): Promise<SubmittedTranscodeRun> {
  if (options.uploads.length === 0) throw new Error('Nothing to transcode: the inputs hold no files.');
  const count = options.uploads.length;
  const workflowId = transcodeWorkflowId(options.runName);
  const started = client.workflow.start<typeof transcode>('transcode', {
    workflowId,
    taskQueue: config.queues.workflow,
    // A run name is used once: its outcomes stay readable under that ID.
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    staticSummary: `transcode run ${options.runName}: ${count} upload${count === 1 ? '' : 's'} → 1080p, 480p, GIF, poster (+4K from 4K sources)`,
    args: [
      {
        run: options.runName,
        uploads: options.uploads,
        queues: { workflow: config.queues.workflow, video: config.queues.video },
        concurrency: options.concurrency,
      },
    ],
    typedSearchAttributes: runSearchAttributes('transcode', options.runName, 'queued'),
  });
  return started.then(
    (handle): SubmittedTranscodeRun => ({ started: true, handle }),
    (error: unknown): SubmittedTranscodeRun => {
      if (error instanceof WorkflowExecutionAlreadyStartedError)
        return { started: false, handle: client.workflow.getHandle<typeof transcode>(workflowId) };
      throw error;
    },
  );
}

/** Starts a new transcode run; a name already used is refused with the fix (a person chose it). */
export async function startTranscodeRun(
  client: Client,
  config: BatchConfig,
  options: TranscodeRunOptions,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof transcode>> {
  const submitted = await submitTranscodeRun(client, config, options);
  if (!submitted.started) {
    throw new Error(
      `There is already a transcode run named "${options.runName}" (${workflowUrl(config, submitted.handle.workflowId)}); choose another --run name.`,
    );
  }
  return submitted.handle;
}
