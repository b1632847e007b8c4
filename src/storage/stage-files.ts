/**
 * How an activity moves data between the store and its scratch folder: `localCopyOf` gives a file
 * an input URI names (the file itself when it is on this host; a download into scratch when it is
 * in S3), `publishFile` uploads an output to its deterministic key once. Tools that need a path
 * (ffmpeg, sharp, git) work on these local files; nothing else touches another host's disk.
 */
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ObjectStore, PutOptions, PutResult } from './object-store';
import { storage, storeHolding } from './storage';

/** A local file holding the content `uri` names. */
export async function localCopyOf(uri: string, scratchDir: string, store: ObjectStore = storage()): Promise<string> {
  const holder = storeHolding(uri, store);
  if (!holder || holder.kind === 'local') return uri;
  const key = holder.keyOf(uri);
  // Named by a hash of the URI, keeping the extension: tools still guess formats from it, and no
  // part of a remote key becomes a local path.
  const ext = path.extname(key).toLowerCase();
  const name = createHash('sha256').update(uri).digest('hex').slice(0, 16) + (/^\.[a-z0-9]{1,8}$/.test(ext) ? ext : '');
  const file = path.join(scratchDir, 'in', name);
  await holder.download(key, file);
  return file;
}

/** Uploads `file` to `key` — only if absent unless told otherwise — and returns where it is. */
export async function publishFile(
  file: string,
  key: string,
  options: PutOptions = { ifAbsent: true },
  store: ObjectStore = storage(),
): Promise<PutResult> {
  return store.putFile(key, file, options);
}
