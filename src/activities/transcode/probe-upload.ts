import { Context } from '@temporalio/activity';
import type { BlobStore } from '../../storage/blob-store';
import { withScratch } from '../../storage/scratch';
import { probeVideoDetailed } from '../media/probe';
import { aboutUpload, blobCopy } from './blob-input';
import type { ProbeUploadInput, SourceVideo } from './types';

/**
 * Activity factory: `probeUpload` reads an upload's video stream with ffprobe (codec, display size, duration, frame
 * rate), from a copy in the worker's scratch folder when the upload is in S3 (removed afterwards). A missing blob, a
 * file that is not a video or a corrupt one fails non-retryably (`InvalidInput`) with a message naming the upload,
 * so the run records the reason and goes on with the other uploads.
 */
export function probeUploadActivity(store: BlobStore) {
  return async function probeUpload({ upload }: ProbeUploadInput): Promise<SourceVideo> {
    const ctx = Context.current();
    return withScratch(async (scratch) => {
      const file = await blobCopy(store, upload.uri, `Upload "${upload.name}"`, 'Upload the file again.', scratch);
      try {
        const probe = await probeVideoDetailed(file, { signal: ctx.cancellationSignal });
        const { codec, width, height, durationSeconds, frameRate, streamIndex } = probe;
        return { codec, width, height, durationSeconds, frameRate, streamIndex };
      } catch (err) {
        throw aboutUpload(upload.name, file, err);
      }
    });
  };
}
