/**
 * Kept for replay (see transcode.ts); new runs use the transcode pipeline.
 *
 * One branch of the transcode copier: renders one rendition of one upload (workflow ID
 * `transcode/<run>/<upload>/<rendition>`), so every rendition has its own history, status and retries in the Web UI.
 */
import { upsertSearchAttributes } from '@temporalio/workflow';
import { RENDITIONS, renditionUri } from '../../activities/transcode/renditions';
import type { RenderedRendition, RenditionName, SourceVideo, Upload } from '../../activities/transcode/types';
import { BatchStage } from '../../core/search-attributes';
import { TranscodeQueues, transcodeActivities } from './transcode-activities';

export interface TranscodeRenditionInput {
  upload: Upload;
  source: SourceVideo;
  rendition: RenditionName;
  queues: TranscodeQueues;
}

export async function transcodeRendition(input: TranscodeRenditionInput): Promise<RenderedRendition> {
  const { upload, rendition } = input;
  const { renderRendition } = transcodeActivities(input.queues, `${RENDITIONS[rendition].label} of ${upload.name}`);
  const rendered = await renderRendition({
    upload,
    source: input.source,
    rendition,
    outputUri: renditionUri(upload.sha256, rendition),
  });
  upsertSearchAttributes([{ key: BatchStage, value: 'done' }]);
  return rendered;
}
