/**
 * CatTube's upload path: an object-created notification of the uploads bucket (topic
 * `bucket-events`, sent by the S3 gateway to Kafka) starts the transcode of that object.
 *
 *   - Only objects of the uploads bucket (BATCH_UPLOADS_BUCKET, default `uploads`) under its
 *     prefix (BATCH_UPLOADS_PREFIX, default: the whole bucket) with a video extension are
 *     transcoded; any other object is refused with the reason (the record is dead-lettered).
 *   - Notifications of the project's own bucket (renditions, blobs, results the project writes
 *     itself) start nothing: the gateway notifies every bucket, and those are not uploads.
 *   - The run is `transcode/event-<event ID>`, the ID made of bucket, key and ETag: the same
 *     content notified again (or uploaded again under the same key) finds that run; new content
 *     under the same key is a new run.
 *   - The object is copied into the blob store (content-addressed `uploads/<sha256>.<ext>`) only
 *     for a run that does not exist yet, read with If-Match on the notified ETag, so the run
 *     transcodes exactly the bytes its event names (an object overwritten since is left to the
 *     newer event).
 */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { Upload } from '../activities/transcode/types';
import type { BlobStore } from '../storage/blob-store';
import type { BatchConfig } from '../infra/config';
import { StorageConfigError } from '../storage/object-store';
import { withScratch } from '../storage/scratch';
import { S3ObjectStore, s3ClientFor } from '../storage/s3-store';
import { objectCreatedEventId } from '../topics/event-ids';
import { decodedKey } from '../topics/topic-events';
import type { FlowStart, PipelineEvent } from '../core/pipeline-event';
import { eventRunName, UnusableEventError } from './event-router';
import { submitTranscodeRun, transcodeWorkflowId } from './transcode';

/** The topic the S3 gateway sends bucket notifications to (pipelines/subscriptions.yaml). */
export const bucketEventsTopic = 'bucket-events';

/** Extensions the transcode takes (what ffmpeg reads as video); anything else is not an upload for it. */
export const videoExtensions = ['.mp4', '.m4v', '.mov', '.mkv', '.webm', '.avi', '.mpg', '.mpeg', '.ts', '.3gp'];

export interface UploadsBucketSettings {
  bucket: string;
  /** Only keys under this prefix (`cats/`) are uploads; '' for the whole bucket. */
  prefix: string;
  /** Larger objects are refused (default 20 GiB, BATCH_UPLOADS_MAX_BYTES). */
  maxBytes: number;
}

export function uploadsBucketFromEnv(env: NodeJS.ProcessEnv = process.env): UploadsBucketSettings {
  const prefix = (env.BATCH_UPLOADS_PREFIX ?? '').replace(/^\/+/, '');
  const maxBytes = Number(env.BATCH_UPLOADS_MAX_BYTES || 20 * 1024 ** 3);
  const bucket = env.BATCH_UPLOADS_BUCKET || 'uploads';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new StorageConfigError(
      `BATCH_UPLOADS_BUCKET=${bucket} is not a bucket name: 3-63 lower-case letters, digits, "." and "-".`,
    );
  return {
    bucket,
    prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    maxBytes: Number.isFinite(maxBytes) && maxBytes > 0 ? maxBytes : 20 * 1024 ** 3,
  };
}

export interface BucketUploadContext {
  client: Client;
  config: BatchConfig;
  /** The blob store the video workers read; on S3 its bucket is where renditions land. */
  store: BlobStore;
  uploads?: UploadsBucketSettings;
}

/** What a started-nothing answer names when no run is concerned (the project's own writes). */
const noRun = (why: string): FlowStart => ({ workflowId: `(none: ${why})`, started: false });

/** The `transcode-upload` flow: see the file comment. */
export function bucketUploadSubscriber(ctx: BucketUploadContext) {
  const settings = ctx.uploads ?? uploadsBucketFromEnv();
  let s3: S3Client | undefined;
  return async (event: PipelineEvent, run: string): Promise<() => Promise<FlowStart>> => {
    const { bucket, key, etag } = event.data;
    if (typeof bucket !== 'string' || typeof key !== 'string' || bucket === '' || key === '')
      throw new UnusableEventError(
        'The transcode-upload flow takes S3 object-created notifications (data {bucket, key, etag}), as the S3 gateway sends them to this topic.',
      );
    const objects = ctx.store.objects;
    if (!(objects instanceof S3ObjectStore))
      throw new UnusableEventError(
        `s3://${bucket}/${key}: bucket uploads need the S3 storage (BATCH_STORAGE=s3, or npm start -- --s3); this process stores media in ${ctx.store.root}.`,
      );
    if (bucket !== settings.bucket) {
      // The gateway notifies every bucket: the project's own writes are not uploads, and not errors.
      if (bucket === objects.bucket) return async () => noRun(`s3://${bucket}/${key} is the project's own output`);
      throw new UnusableEventError(
        `s3://${bucket}/${key} is not in the uploads bucket ${settings.bucket}: only uploads there are transcoded.`,
      );
    }
    const readings = [key, decodedKey(key)].filter((k, i, all): k is string => !!k && all.indexOf(k) === i);
    if (!readings.some((k) => k.startsWith(settings.prefix)))
      throw new UnusableEventError(
        `s3://${bucket}/${key} is outside the uploads prefix ${settings.prefix}: only uploads there are transcoded.`,
      );
    const ext = path.extname(readings[readings.length - 1]).toLowerCase();
    if (!videoExtensions.includes(ext))
      throw new UnusableEventError(
        `s3://${bucket}/${key} is not a video (${ext || 'no extension'}); upload ${videoExtensions.join(', ')} files to have them transcoded.`,
      );
    if (typeof etag !== 'string' || etag === '')
      throw new UnusableEventError(`s3://${bucket}/${key}: the notification has no ETag, so it names no content.`);

    return async () => {
      const workflowId = transcodeWorkflowId(run);
      // The same content notified again: its run exists, nothing is read or stored again.
      const known = await ctx.client.workflow
        .getHandle(workflowId)
        .describe()
        .then(
          () => true,
          () => false,
        );
      if (known) return { workflowId, started: false };
      s3 ??= s3ClientFor(objects.settings);
      const found = await findObject(s3, bucket, readings);
      if (!found)
        throw new UnusableEventError(`s3://${bucket}/${key} is no longer in the bucket; nothing to transcode.`);
      if (unquoted(found.etag) !== unquoted(etag)) {
        // Overwritten since: the newer content has its own event, whose run transcodes it.
        const newer = transcodeWorkflowId(eventRunName(objectCreatedEventId(bucket, found.key, found.etag)));
        return { workflowId: newer, started: false };
      }
      if (found.bytes > settings.maxBytes)
        throw new UnusableEventError(
          `s3://${bucket}/${found.key} has ${found.bytes} bytes, more than the ${settings.maxBytes} an upload may have (BATCH_UPLOADS_MAX_BYTES).`,
        );
      const upload = await ingest(s3, ctx.store, bucket, found, event.id);
      if (!upload) return noRun(`s3://${bucket}/${found.key} changed while it was read; its newer event transcodes it`);
      const { handle, started } = await submitTranscodeRun(ctx.client, ctx.config, { runName: run, uploads: [upload] });
      return { workflowId: handle.workflowId, started };
    };
  };
}

const unquoted = (etag: string) => etag.replace(/^"|"$/g, '');

interface FoundObject {
  key: string;
  etag: string;
  bytes: number;
}

const isMissing = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
};

/** The object under the first reading of its key that exists (as sent, else URL-decoded). */
async function findObject(s3: S3Client, bucket: string, readings: string[]): Promise<FoundObject | undefined> {
  for (const key of readings) {
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { key, etag: head.ETag ?? '', bytes: head.ContentLength ?? 0 };
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }
  return undefined;
}

/**
 * Streams the notified version (If-Match) into scratch, then into the blob store (which hashes it).
 * Undefined when the object changed since its HEAD: the newer content's event transcodes it.
 */
async function ingest(
  s3: S3Client,
  store: BlobStore,
  bucket: string,
  found: FoundObject,
  id: string,
): Promise<Upload | undefined> {
  return withScratch(async (scratch) => {
    const name = path.basename(found.key);
    const file = path.join(scratch, `upload${path.extname(name).toLowerCase()}`);
    let out;
    try {
      out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: found.key, IfMatch: found.etag }));
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || isMissing(error)) return undefined;
      throw error;
    }
    await pipeline(out.Body as Readable, createWriteStream(file, { flags: 'wx' }));
    const blob = await store.put(file);
    // The event ID (a slug of the key and a hash of bucket, key, ETag) is ID-safe and names this upload.
    return { id, name, uri: blob.uri, sha256: blob.sha256, bytes: blob.bytes };
  });
}
