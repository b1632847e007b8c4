/**
 * The transcode flow's media store: `blob://<key>` URIs name objects of an object store
 * (src/storage). Item data and workflow code only ever see `blob://uploads/<sha256>.<ext>` and
 * `blob://renditions/<sha256>/<file>`, whatever the backend:
 *   - local backend: the folder `<dataDir>/blobs` (key `a/b` = `<dataDir>/blobs/a/b`, as always);
 *   - S3 (BATCH_STORAGE=s3): the configured bucket, key = the URI's key (`uploads/<sha256>.mp4`).
 * Why `blob://` stays instead of `s3://` in payloads: the first transcode workflows build
 * rendition URIs in workflow code (their histories must replay), the item check ties an upload's
 * URI to its hash, and a run's data then does not name a bucket or an endpoint.
 *
 * Keys are relative paths of plain segments; anything that could leave the root is refused. `put`
 * stores a file under its content hash (hashed while it is copied), so uploading the same bytes
 * twice stores (and later renders) them once. Activities never get a path of another host:
 * `localCopy` gives a file in their scratch folder (the file itself on the local backend), and
 * `publish` uploads an output from scratch to its key once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileExists, processAlive } from '../infra/atomic-write';
import { BLOB_SCHEME, blobUri } from '../core/blob-uri';
import { LocalObjectStore } from './local-store';
import { ObjectMissingError, ObjectStore, PutOptions, PutResult, StoredObject } from './object-store';
import { withScratch } from './scratch';
import { storage } from './storage';
import { dataDir } from '../infra/paths';

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

/** Copies `source` to `tmp` through a SHA-256: one read, so the copy holds exactly the bytes hashed. */
async function hashingCopy(source: string, tmp: string): Promise<{ sha256: string; bytes: number }> {
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
  return { sha256: hash.digest('hex'), bytes };
}

/** The blob store of a process: the S3 bucket when storage is S3, else the folder `<root>/blobs`. */
export function blobStoreFor(root: string = dataDir): BlobStore {
  const configured = storage();
  return new BlobStore(configured.kind === 's3' ? configured : path.join(root, 'blobs'));
}

export class BlobStore {
  readonly objects: ObjectStore;
  /** The local folder (local backend), or the store's description (S3): for messages and local tests. */
  readonly root: string;

  /** A folder (tests use their own), or an object store; default: {@link blobStoreFor} the data folder. */
  constructor(where?: string | ObjectStore) {
    const chosen = where ?? blobStoreFor().objects;
    this.objects = typeof chosen === 'string' ? new LocalObjectStore(chosen) : chosen;
    this.root = this.objects instanceof LocalObjectStore ? this.objects.root : this.objects.description;
  }

  get isLocal(): boolean {
    return this.objects.kind === 'local';
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

  /** Where a blob is, for people: its file (local backend) or its `s3://bucket/key`. */
  locationOf(uri: string): string {
    return this.objects.uriOf(this.keyOf(uri));
  }

  /**
   * The file behind a `blob://` URI on the local backend (it may not exist yet). On S3 there is no
   * such file: use {@link localCopy} in a scratch folder.
   */
  pathOf(uri: string): string {
    if (!(this.objects instanceof LocalObjectStore)) {
      throw new Error(`${uri} is in ${this.objects.description}, not in a folder: copy it into scratch (localCopy).`);
    }
    return path.join(this.root, ...this.keyOf(uri).split('/'));
  }

  head(uri: string): Promise<StoredObject | undefined> {
    return this.objects.head(this.keyOf(uri));
  }

  /**
   * A local file with the blob's content: the stored file itself on the local backend, a download
   * into `scratchDir` on S3 (streamed to disk, so memory does not grow with the video). An
   * ObjectMissingError when there is no such blob.
   */
  async localCopy(uri: string, scratchDir: string): Promise<string> {
    const key = this.keyOf(uri);
    if (this.isLocal) {
      const file = this.pathOf(uri);
      if (!(await fileExists(file))) throw new ObjectMissingError(uri);
      return file;
    }
    const file = path.join(scratchDir, 'blobs', ...key.split('/'));
    await fs.mkdir(path.dirname(file), { recursive: true });
    await this.objects.download(key, file);
    return file;
  }

  /** Uploads `file` to the blob's key — once (ifAbsent) unless told otherwise; above 16 MiB in streamed parts. */
  publish(file: string, uri: string, options: PutOptions = { ifAbsent: true }): Promise<PutResult> {
    return this.objects.putFile(this.keyOf(uri), file, options);
  }

  /**
   * Stores a copy of `file` at `uploads/<sha256><.ext>` (extension lower-cased, kept so tools that look at it still
   * can). The bytes are hashed while they are copied — one read of the source, through the hash into a temporary
   * file, which is then renamed (local) or uploaded (S3) under the hash's name — so the stored object always holds
   * exactly the bytes its name is the hash of, even when the source changes during the upload. Content-addressed:
   * when that blob exists already, nothing is written.
   */
  async put(file: string): Promise<StoredBlob> {
    const source = path.resolve(file);
    const stat = await fs.stat(source).catch(() => undefined);
    if (!stat?.isFile()) throw new Error(`Cannot upload ${source}: it is not a readable file. Check the path.`);
    const ext = path.extname(source).toLowerCase();
    const keyFor = (sha256: string) => `uploads/${sha256}${/^\.[a-z0-9]{1,8}$/.test(ext) ? ext : ''}`;
    if (!this.isLocal) {
      // Through the hash into a scratch file, then a (multipart) upload of that file: never the whole video in memory.
      return withScratch(async (scratch) => {
        const tmp = path.join(scratch, 'upload');
        const { sha256, bytes } = await hashingCopy(source, tmp);
        const key = keyFor(sha256);
        if (!(await this.objects.head(key))) await this.objects.putFile(key, tmp, { ifAbsent: true });
        return { uri: this.uriOf(key), key, sha256, bytes };
      });
    }
    const dir = path.join(this.root, 'uploads');
    await fs.mkdir(dir, { recursive: true });
    await removeStaleUploads(dir);
    const tmp = path.join(dir, `${tmpPrefix}${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const { sha256, bytes } = await hashingCopy(source, tmp);
      const key = keyFor(sha256);
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
    const root = path.resolve('/blob-root');
    const relative = path.relative(root, path.resolve(root, ...segments));
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new BlobUriError(`Blob ${JSON.stringify(shown)} points outside the blob store ${this.root}; refused.`);
    }
  }
}
