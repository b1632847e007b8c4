/**
 * Kept for replay (see transcode.ts); new runs use the transcode pipeline.
 *
 * One upload through the transcode flow (workflow ID `transcode/<run>/<upload>`): probe it, copy it out to one
 * child workflow per rendition — the seeds' copier, the 4K branch only when the probe says the source is 4K — and,
 * once every branch is done, write the manifest that ffprobe reads back from the files.
 */
import { defineQuery, executeChild, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { manifestUri } from '../../activities/transcode/renditions';
import { legacyRenditionsFor, legacyRenditionSize } from '../../activities/transcode/renditions-legacy';
import type { RenderedRendition, SourceVideo, Upload } from '../../activities/transcode/types';
import { BatchStage, runSearchAttributes } from '../../core/search-attributes';
import { copyToAll } from '../patterns/copier';
import { TranscodeQueues, transcodeActivities } from './transcode-activities';
import { transcodeRendition } from './transcode-rendition';

export interface TranscodeUploadInput {
  run: string;
  upload: Upload;
  queues: TranscodeQueues;
}

export interface TranscodeUploadResult {
  upload: Upload;
  source: SourceVideo;
  renditions: RenderedRendition[];
  manifestUri: string;
}

export interface UploadProgress {
  stage: 'probe' | 'renditions' | 'manifest' | 'done';
  renditions: { total: number; done: number };
}

export const uploadProgressQuery = defineQuery<UploadProgress>('progress');

export async function transcodeUpload(input: TranscodeUploadInput): Promise<TranscodeUploadResult> {
  const { upload, queues, run } = input;
  const progress: UploadProgress = { stage: 'probe', renditions: { total: 0, done: 0 } };
  setHandler(uploadProgressQuery, () => progress);
  const enter = (stage: UploadProgress['stage']) => {
    progress.stage = stage;
    upsertSearchAttributes([{ key: BatchStage, value: stage }]);
  };
  const { probeUpload } = transcodeActivities(queues, `probe ${upload.name}`);
  const { writeTranscodeManifest } = transcodeActivities(queues, `manifest of ${upload.name}`);

  const source = await probeUpload({ upload });
  const specs = legacyRenditionsFor(source);
  progress.renditions.total = specs.length;
  enter('renditions');
  const renditions = await copyToAll(specs, async (spec) => {
    const size = legacyRenditionSize(spec, source);
    const rendered = await executeChild(transcodeRendition, {
      workflowId: `${workflowInfo().workflowId}/${spec.name}`,
      taskQueue: queues.workflow,
      staticSummary: `${upload.name} → ${spec.label}, ${size.width}x${size.height}`,
      typedSearchAttributes: runSearchAttributes('transcode', run, 'render'),
      args: [{ upload, source, rendition: spec.name, queues }],
    });
    progress.renditions.done += 1;
    return rendered;
  });

  enter('manifest');
  const manifest = await writeTranscodeManifest({
    upload,
    source,
    renditions: renditions.map(({ rendition, uri }) => ({ rendition, uri })),
    manifestUri: manifestUri(upload.sha256),
  });
  enter('done');
  return { upload, source, renditions, manifestUri: manifest.uri };
}
