import { ApplicationFailure } from '@temporalio/common';
import { BlobStore, BlobUriError } from '../../storage/blob-store';
import { ObjectMissingError } from '../../storage/object-store';
import { invalidInput } from '../errors';

/**
 * The key of a `blob://` URI an activity was handed. A malformed URI or one that leaves the store is bad input
 * (never retried); `what` names the blob in the message, e.g. `Upload "clip.mp4"`.
 */
export function checkedBlobUri(store: BlobStore, uri: string, what: string): string {
  try {
    return store.keyOf(uri);
  } catch (err) {
    if (err instanceof BlobUriError) throw invalidInput(`${what}: ${err.message}`, { uri });
    throw err;
  }
}

/**
 * A local file with the blob's content, in `scratchDir` when the store is S3 (the stored file itself on the local
 * backend). The blob must exist: a missing input blob cannot appear by retrying, so that is bad input.
 */
export async function blobCopy(
  store: BlobStore,
  uri: string,
  what: string,
  fix: string,
  scratchDir: string,
): Promise<string> {
  checkedBlobUri(store, uri, what);
  try {
    return await store.localCopy(uri, scratchDir);
  } catch (err) {
    if (!(err instanceof ObjectMissingError)) throw err;
    throw invalidInput(
      `${what} is missing from the blob store (${uri}, expected at ${store.locationOf(uri)}). ${fix}`,
      {
        uri,
        location: store.locationOf(uri),
      },
    );
  }
}

/**
 * A non-retryable bad-input failure about an upload's blob file, told in the person's terms: the blob path (a content
 * hash) becomes `upload "<name>"`. Other errors pass unchanged.
 */
export function aboutUpload(name: string, file: string, err: unknown): unknown {
  if (!(err instanceof ApplicationFailure && err.nonRetryable)) return err;
  const named = `upload "${name}"`;
  return ApplicationFailure.create({
    message: err.message.includes(file) ? err.message.split(file).join(named) : `${named}: ${err.message}`,
    type: err.type ?? undefined,
    nonRetryable: true,
    details: err.details as unknown[] | undefined,
  });
}
