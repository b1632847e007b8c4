/**
 * Puts local input files into the object store before a run on S3 (`npm start -- --s3`): each at
 * `uploads/<sha256><.ext>`, content-addressed and write-once, so uploading the same file again
 * (a second demo, a retry) stores nothing twice. Items keep their IDs; their path becomes the URI.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { WorkItem } from '../core/work-item';
import type { ObjectStore } from '../storage/object-store';

/** The upload key of a file: `uploads/<sha256 of its content><.ext>` (extension lower-cased when sane). */
export async function uploadKeyOf(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  const ext = path.extname(file).toLowerCase();
  return `uploads/${hash.digest('hex')}${/^\.[a-z0-9]{1,8}$/.test(ext) ? ext : ''}`;
}

/** Uploads each item's file (once) and returns the items with `path` set to the object's URI. */
export async function uploadInputs<P extends { path: string }>(
  items: WorkItem<P>[],
  store: ObjectStore,
  log: (line: string) => void,
): Promise<WorkItem<P>[]> {
  let created = 0;
  let bytes = 0;
  let folder = '';
  const uploaded: WorkItem<P>[] = [];
  for (const item of items) {
    const put = await store.putFile(await uploadKeyOf(item.payload.path), item.payload.path, { ifAbsent: true });
    folder = put.uri.slice(0, put.uri.lastIndexOf('/') + 1);
    if (put.created) {
      created += 1;
      bytes += put.bytes;
    }
    uploaded.push({ ...item, payload: { ...item.payload, path: put.uri } });
  }
  log(
    `Uploaded ${created} input file${created === 1 ? '' : 's'} (${(bytes / 1e6).toFixed(1)} MB) to ${folder}` +
      (created < items.length ? `; ${items.length - created} already there` : '') +
      '.',
  );
  return uploaded;
}
