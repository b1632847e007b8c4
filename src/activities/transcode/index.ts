/**
 * The upload → transcode activities, as workers register them (video role). They reach media through a blob store;
 * workers use the default one under the data folder, tests pass their own.
 */
import { BlobStore } from '../../runtime/blob-store';
import { writeManifestActivity } from './manifest';
import { probeUploadActivity } from './probe-upload';
import { renderActivity } from './render';

export function createTranscodeActivities(store: BlobStore = new BlobStore()) {
  return {
    probeUpload: probeUploadActivity(store),
    renderRendition: renderActivity(store),
    writeTranscodeManifest: writeManifestActivity(store),
  };
}

export type TranscodeActivities = ReturnType<typeof createTranscodeActivities>;
