/**
 * A local blob store: `blob://<key>` URIs name files under one root folder (default `<dataDir>/blobs`), so media
 * travel through workflows by reference and every worker that shares the folder (a disk, a mount) finds them.
 * Keys are relative paths of plain segments; anything that could leave the root is refused. `put` stores a file
 * under its content hash, so uploading the same bytes twice stores (and later renders) them once.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileExists, writeAtomically } from '../activities/fs/atomic-write';
import { BLOB_SCHEME, blobUri } from '../core/blob-uri';
import { dataDir } from './paths';

/** One key segment: letters, digits, `.`, `_`, `-`; not starting with a dot (temporaries and `..` are hidden). */
const segmentPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export interface StoredBlob {
  uri: string;
  key: string;
  /** Hex SHA-256 of the content. */
  sha256: string;
  bytes: number;
}

/** A `blob://` URI or key that is malformed or points outside the store. */
export class BlobUriError extends Error {
  override name = 'BlobUriError';
}

/** SHA-256 of a file, streamed (uploads can be large). */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

export class BlobStore {
  readonly root: string;

  /** `root` overrides the default `<dataDir>/blobs` (tests use their own folder). */
  constructor(root: string = path.join(dataDir, 'blobs')) {
    this.root = path.resolve(root);
  }

  /** `blob://<key>` for a key, after checking the key stays inside the store. */
  uriOf(key: string): string {
    this.checkKey(key, key);
    return blobUri(key);
  }

  /** The key of a `blob://` URI. */
  keyOf(uri: string): string {
    if (typeof uri !== 'string' || !uri.startsWith(BLOB_SCHEME)) {
      throw new BlobUriError(`${JSON.stringify(uri)} is not a blob URI; expected blob://<key>, e.g. blob://uploads/….`);
    }
    const key = uri.slice(BLOB_SCHEME.length);
    this.checkKey(key, uri);
    return key;
  }

  /** The file behind a `blob://` URI (it may not exist yet: outputs are named before they are written). */
  pathOf(uri: string): string {
    return path.join(this.root, ...this.keyOf(uri).split('/'));
  }

  /**
   * Stores a copy of `file` at `uploads/<sha256><.ext>` (extension lower-cased, kept so tools that look at it still
   * can). Content-addressed: when that blob exists already, nothing is copied. Written atomically.
   */
  async put(file: string): Promise<StoredBlob> {
    const source = path.resolve(file);
    const stat = await fs.stat(source).catch(() => undefined);
    if (!stat?.isFile()) throw new Error(`Cannot upload ${source}: it is not a readable file. Check the path.`);
    const sha256 = await sha256OfFile(source);
    const ext = path.extname(source).toLowerCase();
    const key = `uploads/${sha256}${/^\.[a-z0-9]{1,8}$/.test(ext) ? ext : ''}`;
    const uri = this.uriOf(key);
    const target = this.pathOf(uri);
    if (!(await fileExists(target))) await writeAtomically(target, (tmp) => fs.copyFile(source, tmp));
    return { uri, key, sha256, bytes: stat.size };
  }

  private checkKey(key: string, shown: string): void {
    const segments = typeof key === 'string' ? key.split('/') : [];
    if (segments.length === 0 || !segments.every((s) => segmentPattern.test(s))) {
      throw new BlobUriError(
        `Blob ${JSON.stringify(shown)} is not a valid key: use segments of letters, digits, ".", "_" and "-" ` +
          'separated by "/", none empty or starting with "." (no "..", no absolute paths).',
      );
    }
    // The pattern already excludes "..": this is the belt to its braces, on the resolved path.
    const resolved = path.resolve(this.root, ...segments);
    const relative = path.relative(this.root, resolved);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new BlobUriError(`Blob ${JSON.stringify(shown)} points outside the blob store ${this.root}; refused.`);
    }
  }
}
