/**
 * The data plane's one interface: objects under keys, in a local folder (the embedded default) or
 * an S3 bucket. Flows name data by URI (an absolute path on the local backend, `s3://bucket/key`
 * on S3) and never pass bytes through workflows; activities download inputs to their scratch
 * folder and upload outputs from it (src/storage/stage-files.ts).
 */
import type { Readable } from 'node:stream';

export type StorageKind = 'local' | 's3';

export interface StoredObject {
  key: string;
  uri: string;
  bytes: number;
  /** The server's entity tag (S3) or a size+mtime tag (local): changes when the content does. */
  etag?: string;
}

export interface PutOptions {
  /**
   * Write only when no object has the key yet (S3 `If-None-Match: *`; a hard link on the local
   * folder). A second writer — a retry on another host — finds the first one's object and keeps
   * it: `created` is false. For deterministic keys of deterministic content this is what makes
   * an output appear exactly once.
   */
  ifAbsent?: boolean;
  contentType?: string;
}

export interface PutResult extends StoredObject {
  /** False when `ifAbsent` found an object already there (nothing was written). */
  created: boolean;
}

export interface ListPage {
  objects: StoredObject[];
  /** Pass as `after` to read the next page; absent on the last page. */
  next?: string;
}

export interface ObjectStore {
  readonly kind: StorageKind;
  /** For messages: "folder /srv/data" or "s3://media at http://127.0.0.1:7070". */
  readonly description: string;
  /** The URI naming `key` in this store. */
  uriOf(key: string): string;
  /** True when `uri` names an object of this store. */
  owns(uri: string): boolean;
  /** The key `uri` names; a StorageUriError when the URI is not this store's. */
  keyOf(uri: string): string;
  /** Uploads a local file, streamed (large files in parts); the object appears only complete. */
  putFile(key: string, file: string, options?: PutOptions): Promise<PutResult>;
  putBytes(key: string, body: string | Uint8Array, options?: PutOptions): Promise<PutResult>;
  /** The whole object (small objects only: manifests, ledgers, results parts); undefined when absent. */
  getBytes(key: string): Promise<Buffer | undefined>;
  /** Streams the object into `file` (written whole or not at all); ObjectMissingError when absent. */
  download(key: string, file: string): Promise<StoredObject>;
  /** Streams the object, from byte `start` on when given (a page of a JSON Lines or CSV object). */
  openRead(key: string, options?: { start?: number }): Promise<Readable>;
  head(key: string): Promise<StoredObject | undefined>;
  /** Objects whose key starts with `prefix`, in key order, a page at a time. */
  list(prefix: string, options?: { after?: string; limit?: number }): Promise<ListPage>;
  delete(key: string): Promise<void>;
  /** Fails with a StorageConfigError saying what to fix when the store cannot be used (at start, not mid-run). */
  check(): Promise<void>;
}

/** A URI or key that is malformed, or names another store. */
export class StorageUriError extends Error {
  override name = 'StorageUriError';
}

/** The object a read asked for does not exist. */
export class ObjectMissingError extends Error {
  override name = 'ObjectMissingError';
  constructor(readonly uri: string) {
    super(`${uri} does not exist: check the name, or upload it first.`);
  }
}

/** The store is unusable as configured: wrong credentials, missing bucket, unreachable endpoint. */
export class StorageConfigError extends Error {
  override name = 'StorageConfigError';
}

/**
 * Keys are `/`-separated segments, none empty, `.` or `..`, without NUL or backslash — valid on
 * S3 and safe to map onto a folder. Checked by both backends so a key means the same on each.
 */
export function checkKey(key: string): string {
  const bad =
    typeof key !== 'string' ||
    key.length === 0 ||
    Buffer.byteLength(key) > 1024 ||
    /[\0\\]/.test(key) ||
    key.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad) {
    throw new StorageUriError(
      `${JSON.stringify(String(key).slice(0, 200))} is not a valid object key: use "/"-separated names, none empty, ` +
        '"." or "..", no backslash or NUL, at most 1024 bytes.',
    );
  }
  return key;
}

/** `a/b` + `c` → `a/b/c`; an empty prefix adds nothing. */
export const joinKey = (...parts: string[]): string => parts.filter((p) => p !== '').join('/');
