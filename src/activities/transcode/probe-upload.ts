import { Context } from '@temporalio/activity';
import type { BlobStore } from '../../runtime/blob-store';
import { probeVideoDetailed } from '../media/probe';
import { aboutUpload, existingBlobFile } from './blob-input';
import type { ProbeUploadInput, SourceVideo } from './types';

/**
 * Activity factory: `probeUpload` reads an upload's video stream with ffprobe (codec, display size, duration, frame
 * rate). A missing blob, a file that is not a video or a corrupt one fails non-retryably (`InvalidInput`) with a
 * message naming the upload, so the run records the reason and goes on with the other uploads.
 */
export function probeUploadActivity(store: BlobStore) {
  return async function probeUpload({ upload }: ProbeUploadInput): Promise<SourceVideo> {
    const ctx = Context.current();
    const file = await existingBlobFile(store, upload.uri, `Upload "${upload.name}"`, 'Upload the file again.');
    try {
      const probe = await probeVideoDetailed(file, { signal: ctx.cancellationSignal });
      const { codec, width, height, durationSeconds, frameRate, streamIndex } = probe;
      return { codec, width, height, durationSeconds, frameRate, streamIndex };
    } catch (err) {
      throw aboutUpload(upload.name, file, err);
    }
  };
}
