/**
 * The S3 backend (`@aws-sdk/client-s3`): any S3 API — AWS, the Versity gateway the project starts,
 * MinIO, Ceph. URIs are `s3://bucket/key`. Uploads stream from a file (multipart above 16 MiB via
 * `@aws-sdk/lib-storage`), so a worker's memory does not grow with the media; an object appears
 * only when complete (S3 semantics), and `ifAbsent` sends `If-None-Match: *` so a second writer
 * gets 412 and keeps the first one's object.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ListPage, ObjectStore, PutOptions, PutResult, StoredObject } from './object-store';
import { checkKey, joinKey, ObjectMissingError, StorageConfigError, StorageUriError } from './object-store';
import type { S3Settings } from './storage-config';

const partBytes = 16 * 1024 * 1024;

// The SDK warns on Node 20 that releases after January 2027 need Node 22 (the pinned version
// works); the README says so once instead of every worker log on every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const statusOf = (err: unknown): number | undefined =>
  (err as S3ServiceException)?.$metadata?.httpStatusCode ??
  (err as { $response?: { statusCode?: number } })?.$response?.statusCode;

const isMissing = (err: unknown) => statusOf(err) === 404 || ['NoSuchKey', 'NotFound'].includes((err as Error)?.name);

const isPreconditionFailed = (err: unknown) =>
  statusOf(err) === 412 || ['PreconditionFailed', 'ConditionalRequestConflict'].includes((err as Error)?.name);

/** An S3 client for these settings; the one place the project configures one. */
export function s3ClientFor(settings: S3Settings): S3Client {
  return new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    credentials:
      settings.accessKeyId && settings.secretAccessKey
        ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
        : undefined,
    // Checksums only where S3 requires them: self-hosted servers differ in the newer trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 5,
  });
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly description: string;
  readonly client: S3Client;
  readonly bucket: string;
  private readonly prefix: string;

  constructor(readonly settings: S3Settings) {
    this.bucket = settings.bucket;
    this.prefix = settings.prefix;
    this.description = `s3://${settings.bucket}${settings.prefix ? `/${settings.prefix}` : ''} at ${settings.endpoint ?? 'AWS S3'}`;
    this.client = s3ClientFor(settings);
  }

  private fullKey(key: string): string {
    return joinKey(this.prefix, checkKey(key));
  }

  uriOf(key: string): string {
    return `s3://${this.bucket}/${this.fullKey(key)}`;
  }

  owns(uri: string): boolean {
    const start = `s3://${this.bucket}/${this.prefix ? `${this.prefix}/` : ''}`;
    return typeof uri === 'string' && uri.startsWith(start) && uri.length > start.length;
  }

  keyOf(uri: string): string {
    if (!this.owns(uri)) throw new StorageUriError(`${JSON.stringify(uri)} is not an object of ${this.description}.`);
    const start = `s3://${this.bucket}/${this.prefix ? `${this.prefix}/` : ''}`;
    return checkKey(uri.slice(start.length));
  }

  async putFile(key: string, file: string, options: PutOptions = {}): Promise<PutResult> {
    const stat = await fs.stat(file);
    if (stat.size <= partBytes) return this.putBytes(key, await fs.readFile(file), options);
    if (options.ifAbsent) {
      // Multipart: the condition is checked at completion too (If-None-Match on CompleteMultipartUpload);
      // the HEAD first saves re-uploading gigabytes a retry already put there.
      const existing = await this.head(key);
      if (existing) return { ...existing, created: false };
    }
    const upload = new Upload({
      client: this.client,
      partSize: partBytes,
      queueSize: 2,
      params: {
        Bucket: this.bucket,
        Key: this.fullKey(key),
        Body: createReadStream(file),
        ContentLength: stat.size,
        ContentType: options.contentType,
        ...(options.ifAbsent ? { IfNoneMatch: '*' } : {}),
      },
    });
    try {
      await upload.done();
    } catch (err) {
      if (options.ifAbsent && isPreconditionFailed(err)) return { ...(await this.headOrThrow(key)), created: false };
      throw this.explain(err, 'upload', key);
    }
    return { ...(await this.headOrThrow(key)), created: true };
  }

  async putBytes(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(key),
          Body: bytes,
          ContentType: options.contentType,
          ...(options.ifAbsent ? { IfNoneMatch: '*' } : {}),
        }),
      );
      return { key, uri: this.uriOf(key), bytes: bytes.length, etag: out.ETag, created: true };
    } catch (err) {
      if (options.ifAbsent && isPreconditionFailed(err)) return { ...(await this.headOrThrow(key)), created: false };
      throw this.explain(err, 'upload', key);
    }
  }

  async getBytes(key: string): Promise<Buffer | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw this.explain(err, 'read', key);
    }
  }

  async openRead(key: string, options: { start?: number } = {}): Promise<Readable> {
    try {
      const range = options.start ? { Range: `bytes=${options.start}-` } : {};
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key), ...range }),
      );
      return out.Body as Readable;
    } catch (err) {
      if (isMissing(err)) throw new ObjectMissingError(this.uriOf(key));
      throw this.explain(err, 'read', key);
    }
  }

  async download(key: string, file: string): Promise<StoredObject> {
    const body = await this.openRead(key);
    // Streamed to a temporary beside the target and renamed: a download cut short leaves no half file.
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.download`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    try {
      await pipeline(body, createWriteStream(tmp));
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw this.explain(err, 'download', key);
    }
    const stat = await fs.stat(file);
    return { key, uri: this.uriOf(key), bytes: stat.size };
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
      return { key, uri: this.uriOf(key), bytes: out.ContentLength ?? 0, etag: out.ETag };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw this.explain(err, 'inspect', key);
    }
  }

  private async headOrThrow(key: string): Promise<StoredObject> {
    const info = await this.head(key);
    if (!info) throw new ObjectMissingError(this.uriOf(key));
    return info;
  }

  async list(prefix: string, options: { after?: string; limit?: number } = {}): Promise<ListPage> {
    const base = this.prefix ? `${this.prefix}/` : '';
    try {
      const out = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: base + prefix,
          StartAfter: options.after === undefined ? undefined : base + options.after,
          MaxKeys: options.limit ?? 1000,
        }),
      );
      const objects = (out.Contents ?? [])
        .filter((o) => o.Key !== undefined && !o.Key.endsWith('/'))
        .map((o) => {
          const key = o.Key!.slice(base.length);
          return { key, uri: `s3://${this.bucket}/${o.Key}`, bytes: o.Size ?? 0, etag: o.ETag };
        });
      return { objects, next: out.IsTruncated && objects.length > 0 ? objects[objects.length - 1].key : undefined };
    } catch (err) {
      throw this.explain(err, 'list', prefix);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }));
    } catch (err) {
      if (!isMissing(err)) throw this.explain(err, 'delete', key);
    }
  }

  /** One HEAD of the bucket, told apart into what the operator has to fix. */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      throw this.explain(err, 'open', '');
    }
  }

  /** Errors an operator can act on: which setting is wrong, instead of the SDK's bare code. */
  private explain(err: unknown, action: string, key: string): Error {
    const status = statusOf(err);
    const where = `${action} ${key ? this.uriOf(key) : `bucket ${this.bucket}`} (${this.settings.endpoint ?? 'AWS S3'})`;
    const code = (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.name;
    if (status === 403 || ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied'].includes(code ?? '')) {
      return new StorageConfigError(
        `Cannot ${where}: access denied. Check BATCH_S3_ACCESS_KEY_ID and BATCH_S3_SECRET_ACCESS_KEY (or the AWS credentials in use).`,
      );
    }
    if (code === 'NoSuchBucket' || (status === 404 && key === '')) {
      return new StorageConfigError(
        `Cannot ${where}: bucket ${this.bucket} does not exist. Create it, or set BATCH_S3_BUCKET to an existing one.`,
      );
    }
    if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code ?? '')) {
      const problem = new Error(
        `Cannot ${where}: the S3 endpoint is unreachable (${code}). Check BATCH_S3_ENDPOINT and that the server runs.`,
      );
      problem.name = 'StorageUnreachable';
      return problem;
    }
    if (err instanceof Error) {
      err.message = `Cannot ${where}: ${err.message}`;
      return err;
    }
    return new Error(`Cannot ${where}: ${String(err)}`);
  }
}
