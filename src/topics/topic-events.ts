/**
 * Turns a Kafka record (untrusted bytes from any producer) into the events it carries, or into
 * the reason it carries none that can ever start: too big, not JSON, not a shape we know. Two
 * shapes are known: the project's own `{"id"?: string, "data"?: {...}}` (what publishEvent and
 * `POST /topics/<t>/events` send) and S3 bucket notifications (`{"Records": [...]}`), one event
 * per object created.
 */
import { objectCreatedEventId, positionEventId, type RecordPosition } from './event-ids';

export interface TopicEvent {
  /** Names the runs it starts: the same ID is the same event, started once. */
  id: string;
  /** Where the ID came from: the publisher, the event's content, or the record's position. */
  idFrom: 'publisher' | 'content' | 'position';
  /** The record's key (the entity whose events keep their order), when it had one. */
  key?: string;
  data: Record<string, unknown>;
  position: RecordPosition;
}

export type ParsedRecord = { events: TopicEvent[]; skipped?: string } | { poison: string };

/** The item-ID rule (src/sources/item-id.ts): the ID becomes part of workflow IDs and folder names. */
const eventIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function parseTopicRecord(
  value: Buffer | undefined,
  key: Buffer | undefined,
  position: RecordPosition,
  maxBytes: number,
): ParsedRecord {
  if (!value || value.length === 0) return { poison: 'empty record: an event is a JSON object' };
  if (value.length > maxBytes) {
    return { poison: `oversized: ${value.length} bytes, more than the ${maxBytes} an event may have` };
  }
  let body: unknown;
  try {
    body = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return { poison: `not JSON: ${(error as Error).message}` };
  }
  const keyText = key && key.length > 0 ? key.toString('utf8') : undefined;
  const base = { position, ...(keyText === undefined ? {} : { key: keyText }) };
  if (!isObject(body)) return { poison: `unknown shape: ${describe(body)}, expected an object {"id", "data"}` };
  if ('Records' in body || body.Event === 's3:TestEvent') return parseS3Notification(body, base);

  const unknown = Object.keys(body).filter((field) => field !== 'id' && field !== 'data');
  if (unknown.length > 0) {
    return { poison: `unknown shape: field(s) ${unknown.join(', ')}; an event is {"id": "...", "data": {...}}` };
  }
  if (body.id === undefined && body.data === undefined) {
    return { poison: 'unknown shape: neither "id" nor "data"; an event is {"id": "...", "data": {...}}' };
  }
  if (body.data !== undefined && !isObject(body.data)) {
    return { poison: `unknown shape: "data" is ${describe(body.data)}, expected an object` };
  }
  const data = (body.data ?? {}) as Record<string, unknown>;
  if (body.id === undefined) return { events: [{ ...base, id: positionEventId(position), idFrom: 'position', data }] };
  if (typeof body.id !== 'string' || !eventIdPattern.test(body.id)) {
    return {
      poison: `bad event id ${JSON.stringify(body.id).slice(0, 140)}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    };
  }
  return { events: [{ ...base, id: body.id, idFrom: 'publisher', data }] };
}

/** AWS-format bucket notifications (Versity S3 Gateway, MinIO and AWS send this shape). */
function parseS3Notification(body: Record<string, unknown>, base: Pick<TopicEvent, 'position' | 'key'>): ParsedRecord {
  if (body.Event === 's3:TestEvent')
    return { events: [], skipped: 'S3 test event (sent when notifications are set up)' };
  if (!Array.isArray(body.Records) || body.Records.length === 0) {
    return { poison: 'unknown shape: "Records" is not a non-empty list of S3 notification records' };
  }
  const events: TopicEvent[] = [];
  const skipped: string[] = [];
  for (const [index, record] of body.Records.entries()) {
    const s3 = isObject(record) && isObject(record.s3) ? record.s3 : undefined;
    const bucket = s3 && isObject(s3.bucket) ? s3.bucket.name : undefined;
    const object = s3 && isObject(s3.object) ? s3.object : undefined;
    const eventName = isObject(record) ? record.eventName : undefined;
    if (typeof eventName !== 'string' || typeof bucket !== 'string' || !object || typeof object.key !== 'string') {
      return { poison: `unknown shape: Records[${index}] lacks eventName, s3.bucket.name or s3.object.key` };
    }
    if (!/^(s3:)?ObjectCreated:/.test(eventName)) {
      skipped.push(`${eventName} (only object-created notifications start runs)`);
      continue;
    }
    // AWS and MinIO URL-encode notification keys ('+' for spaces); the Versity gateway sends the key
    // as stored (`my clip+1%.mp4`). `key` is kept as sent (the subscriber looks up both readings);
    // the ID and the entity use the decoded reading when there is one, so both senders name one object once.
    const sentKey = object.key;
    const objectKey = decodedKey(sentKey) ?? sentKey;
    const etag = typeof object.eTag === 'string' ? object.eTag : typeof object.etag === 'string' ? object.etag : '';
    const data: Record<string, unknown> = {
      bucket,
      key: sentKey,
      ...(etag ? { etag } : {}),
      ...(typeof object.size === 'number' ? { size: object.size } : {}),
      eventName,
      ...(typeof (record as Record<string, unknown>).eventTime === 'string'
        ? { eventTime: (record as Record<string, unknown>).eventTime }
        : {}),
    };
    // Without an ETag the object version is unknown: the record's position (plus its index) names it.
    const id = etag
      ? objectCreatedEventId(bucket, objectKey, etag)
      : `${positionEventId(base.position)}${body.Records.length > 1 ? `-r${index}` : ''}`;
    // The object is the entity: its events are about it, whatever key the sender gave the record.
    events.push({ ...base, key: `${bucket}/${objectKey}`, id, idFrom: etag ? 'content' : 'position', data });
  }
  return skipped.length > 0 ? { events, skipped: skipped.join('; ') } : { events };
}

/** The URL-decoded reading of a notification key, or undefined when it is not URL-encoded text. */
export function decodedKey(sent: string): string | undefined {
  try {
    return decodeURIComponent(sent.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
