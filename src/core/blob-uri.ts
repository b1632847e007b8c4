/**
 * `blob://<key>` URIs: how media are referenced in workflow inputs and results. Plain: workflow code builds output
 * URIs with it; the store that maps them to files is src/storage/blob-store.ts.
 */
export const BLOB_SCHEME = 'blob://';

export const blobUri = (key: string): string => `${BLOB_SCHEME}${key}`;
