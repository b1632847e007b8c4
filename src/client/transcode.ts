/**
 * Starting a transcode run: the input files go into the blob store (content-addressed), and a run of the transcode
 * pipeline (src/pipelines/transcode.ts) on the generic engine, workflow `transcode/<run>`, gets their `blob://`
 * URIs — never the media themselves.
 */
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Upload } from '../activities/transcode/types';
import { uploadItem } from '../activities/transcode/upload-item';
import type { WorkItem } from '../core/work-item';
import { transcodePipeline } from '../pipelines/transcode';
import type { BlobStore } from '../storage/blob-store';
import { type BatchConfig, workflowUrl } from '../infra/config';
import type { FilePayload } from '../sources';
import type { pipelineRun } from '../workflows/pipeline';
import { submitPipelineRun } from './pipeline-run';

export const transcodeWorkflowId = (runName: string) => `transcode/${runName}`;

/**
 * Puts each input file into the blob store and describes it as an upload. The item ID (from the source: a slug of
 * the name and a hash of the path) names the upload in the run; a file given twice, or two files with the same
 * bytes, make one upload, so nothing is rendered twice (renditions are stored by content hash).
 */
export async function uploadFiles(store: BlobStore, items: WorkItem<FilePayload>[]): Promise<Upload[]> {
  const uploads: Upload[] = [];
  const seenIds = new Set<string>();
  const seenContent = new Set<string>();
  for (const item of items) {
    if (seenIds.has(item.id)) continue;
    seenIds.add(item.id);
    const blob = await store.put(item.payload.path);
    if (seenContent.has(blob.sha256)) continue;
    seenContent.add(blob.sha256);
    const name = path.basename(item.payload.path);
    uploads.push({ id: item.id, name, uri: blob.uri, sha256: blob.sha256, bytes: blob.bytes });
  }
  return uploads;
}

export interface TranscodeRunOptions {
  /** Names the run: workflow ID `transcode/<runName>`; a second start of the same name is refused by the server. */
  runName: string;
  uploads: Upload[];
  /** Partition workflows at once (default: the engine's). */
  partitionWindow?: number;
  /** Uploads per partition workflow (default 200). */
  partitionSize?: number;
}

export type TranscodeRunHandle = WorkflowHandle<typeof pipelineRun>;

/** `started: false`: a run of this name existed already (running or finished); nothing new was started. */
export interface SubmittedTranscodeRun {
  started: boolean;
  handle: TranscodeRunHandle;
}

/** Starts a transcode run, or finds the one of the same name (the event router's at-most-once delivery). */
export async function submitTranscodeRun(
  client: Client,
  config: BatchConfig,
  options: TranscodeRunOptions,
): Promise<SubmittedTranscodeRun> {
  if (options.uploads.length === 0) throw new Error('Nothing to transcode: the inputs hold no files.');
  const spec = transcodePipeline({ videoQueue: config.queues.video, partitionSize: options.partitionSize });
  return submitPipelineRun(
    client,
    config,
    spec,
    { items: options.uploads.map(uploadItem) },
    { runName: options.runName, partitionWindow: options.partitionWindow },
  );
}

/** Starts a new transcode run; a name already used is refused with the fix (a person chose it). */
export async function startTranscodeRun(
  client: Client,
  config: BatchConfig,
  options: TranscodeRunOptions,
): Promise<TranscodeRunHandle> {
  const submitted = await submitTranscodeRun(client, config, options);
  if (!submitted.started) {
    throw new Error(
      `There is already a transcode run named "${options.runName}" (${workflowUrl(config, submitted.handle.workflowId)}); choose another --run name.`,
    );
  }
  return submitted.handle;
}
