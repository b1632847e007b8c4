/**
 * The upload → transcode activities, as workers register them (video role): the pipeline's stage activities, and the
 * first flow's per-call activities for its runs in flight. They reach media through a blob store;
 * workers use the default one under the data folder, tests pass their own.
 */
import { BlobStore } from '../../storage/blob-store';
import { resultActivities } from '../pipeline/results';
import { writeManifestActivity } from './manifest';
import { probeUploadActivity } from './probe-upload';
import { renderActivity } from './render';
import { transcodeStageActivities } from './stages';

export function createTranscodeActivities(store: BlobStore = new BlobStore()) {
  return {
    probeUpload: probeUploadActivity(store),
    renderRendition: renderActivity(store),
    writeTranscodeManifest: writeManifestActivity(store),
    // The transcode pipeline's stages (src/pipelines/transcode.ts) run on the video queue, and so does the
    // engine's bookkeeping of its runs (item pages, results parts): every stage of it names this queue.
    ...transcodeStageActivities(store),
    ...resultActivities,
  };
}

export type TranscodeActivities = ReturnType<typeof createTranscodeActivities>;
