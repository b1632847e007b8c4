/**
 * A local blob store: `blob://<key>` URIs name files under one root folder (default `<dataDir>/blobs`), so media
 * travel through workflows by reference and every worker that shares the folder (a disk, a mount) finds them.
 * Keys are relative paths of plain segments; anything that could leave the root is refused. `put` stores a file
 * under its content hash, so uploading the same bytes twice stores (and later renders) them once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileExists, processAlive } from '../activities/fs/atomic-write';
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

/** Temporaries of `put`, in `uploads/`: hidden (no key can name them), with the writer's pid to clean up after it. */
const tmpPrefix = '.upload.';

/** Removes the temporaries of uploads whose process died mid-copy (SIGKILL, power loss). */
async function removeStaleUploads(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (!name.startsWith(tmpPrefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(tmpPrefix.length).split('.')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) {
      await fs.rm(path.join(dir, name), { force: true });
    }
  }
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
   * can). The bytes are hashed while they are copied — one read of the source, through the hash into a temporary file
   * in the store, renamed to the hash's name — so the stored file always holds exactly the bytes its name is the hash
   * of, even when the source changes during the upload (hashing first and copying afterwards would store whatever the
   * second read found). Content-addressed: when that blob exists already, the temporary is dropped.
   */
  async put(file: string): Promise<StoredBlob> {
    const source = path.resolve(file);
    const stat = await fs.stat(source).catch(() => undefined);
    if (!stat?.isFile()) throw new Error(`Cannot upload ${source}: it is not a readable file. Check the path.`);
    const dir = path.join(this.root, 'uploads');
    await fs.mkdir(dir, { recursive: true });
    await removeStaleUploads(dir);
    const tmp = path.join(dir, `${tmpPrefix}${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const hash = createHash('sha256');
      let bytes = 0;
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(createReadStream(source), hashing, createWriteStream(tmp, { flags: 'wx' }));
      const handle = await fs.open(tmp, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const sha256 = hash.digest('hex');
      const ext = path.extname(source).toLowerCase();
      const key = `uploads/${sha256}${/^\.[a-z0-9]{1,8}$/.test(ext) ? ext : ''}`;
      const uri = this.uriOf(key);
      const target = this.pathOf(uri);
      // Same name, same bytes: an existing blob is kept (a rename over it would change nothing but its time).
      if (await fileExists(target)) await fs.rm(tmp, { force: true });
      else await fs.rename(tmp, target);
      return { uri, key, sha256, bytes };
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
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
