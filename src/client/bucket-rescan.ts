/**
 * Catch-up for uploads whose notification never reached Kafka. The S3 gateway sends each
 * notification once, with no retry or outbox: an upload made while the broker was down (or
 * before bucket events were turned on) has no event. This lists the uploads bucket and publishes
 * one event per video on the bucket-events topic, with the ID its notification would have had
 * (bucket, key, ETag): uploads already transcoded find their run and start nothing, the missed
 * ones start theirs.
 *
 * From the command line: `npm run cli -- kafka rescan`. Settings: BATCH_STORAGE=s3 + BATCH_S3_* for another S3 service (else the gateway of
 * `npm start -- --s3`: http://127.0.0.1:$BATCH_S3_PORT, credentials from .data/s3),
 * BATCH_KAFKA_BROKERS (else 127.0.0.1:$BATCH_KAFKA_PORT), BATCH_UPLOADS_BUCKET / _PREFIX.
 */
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3ClientFor } from '../storage/s3-store';
import { bucketEventsTopic, videoExtensions } from './bucket-uploads';
import type { S3Settings } from '../storage/storage-config';
import { objectCreatedEventId } from '../topics/event-ids';
import { createEventPublisher } from '../topics/kafka-publisher';
import { decodedKey } from '../topics/topic-events';

export interface RescanOptions {
  /** Endpoint and credentials of the S3 service (its bucket is ignored: `uploads.bucket` is listed). */
  s3: S3Settings;
  uploads: { bucket: string; prefix: string };
  brokers: string[];
  topic?: string;
  log?: (line: string) => void;
}

/** Publishes an event per video in the uploads bucket; returns how many. */
export async function rescanUploads(options: RescanOptions): Promise<number> {
  const { s3: settings, uploads } = options;
  const client = s3ClientFor(settings);
  const publisher = createEventPublisher({ brokers: options.brokers, clientId: 'batch-bucket-rescan' });
  let published = 0;
  try {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: uploads.bucket, Prefix: uploads.prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const { Key: key, ETag: etag } = object;
        if (!key || !etag || !videoExtensions.includes(path.extname(key).toLowerCase())) continue;
        await publisher.publishEvent(options.topic ?? bucketEventsTopic, {
          // As the parser names the gateway's notification of this object (keys as stored, decoded reading first).
          id: objectCreatedEventId(uploads.bucket, decodedKey(key) ?? key, etag),
          key: `${uploads.bucket}/${key}`,
          data: { bucket: uploads.bucket, key, etag, size: object.Size ?? 0, eventName: 'rescan' },
        });
        published += 1;
        options.log?.(`published s3://${uploads.bucket}/${key}`);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
    await publisher.close();
  }
  return published;
}
