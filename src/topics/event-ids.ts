/**
 * The ID of an event read from a topic. The ID names the workflows the event starts, so the same
 * event delivered twice starts nothing the second time (the server refuses a second start of an
 * ID). Publishers give one; an event without it gets one from its content (an S3 object-created
 * notification: bucket, key and ETag, so the same upload is one event however often it is sent)
 * or else from its place in the log (topic, partition, offset: the same record is the same event).
 */
import { createHash } from 'node:crypto';

export interface RecordPosition {
  topic: string;
  partition: number;
  offset: bigint;
}

const hash = (parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 24);

/** `s3-<slug of the key>-<hash of bucket, key, ETag>`: readable in the Web UI, unique per object version. */
export function objectCreatedEventId(bucket: string, key: string, etag: string): string {
  const slug =
    key
      .split('/')
      .pop()!
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'object';
  return `s3-${slug}-${hash([bucket, key, etag.replace(/^"|"$/g, '')])}`;
}

/**
 * `<topic>-p<partition>-o<offset>`. Kafka topic names use only letters, digits, '.', '_' and '-',
 * but may start with any of them, and an ID must start with a letter or digit: such a topic's
 * name gets a prefix made of its hash, which no other topic's name shares.
 */
export function positionEventId(position: RecordPosition): string {
  const topic = /^[A-Za-z0-9]/.test(position.topic)
    ? position.topic
    : `h${hash([position.topic]).slice(0, 8)}${position.topic}`;
  const id = `${topic}-p${position.partition}-o${position.offset}`;
  // A 249-character topic name would not fit an item ID: keep the start readable, hash the whole.
  return id.length <= 128 ? id : `${id.slice(0, 80)}-${hash([id])}`;
}
