import { ApplicationFailure } from '@temporalio/common';
import { BlobStore, BlobUriError } from '../../runtime/blob-store';
import { fileExists } from '../fs/atomic-write';
import { invalidInput } from '../errors';

/**
 * The file behind a `blob://` URI an activity was handed. A malformed URI or one that leaves the store is bad input
 * (never retried); `what` names the blob in the message, e.g. `Upload "clip.mp4"`.
 */
export function blobFile(store: BlobStore, uri: string, what: string): string {
  try {
    return store.pathOf(uri);
  } catch (err) {
    if (err instanceof BlobUriError) throw invalidInput(`${what}: ${err.message}`, { uri });
    throw err;
  }
}

/** Like {@link blobFile}, and the file must exist: a missing input blob cannot appear by retrying. */
export async function existingBlobFile(store: BlobStore, uri: string, what: string, fix: string): Promise<string> {
  const file = blobFile(store, uri, what);
  if (!(await fileExists(file))) {
    throw invalidInput(`${what} is missing from the blob store (${uri}, expected at ${file}). ${fix}`, { uri, file });
  }
  return file;
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
