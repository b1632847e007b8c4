/**
 * Property-based fuzzing of the topic record parser (src/topics/topic-events.ts), which takes
 * untrusted bytes from any Kafka producer and S3 bucket notifications: random bytes, random JSON,
 * mutated events and notifications, hostile values. It either returns events whose IDs are usable
 * workflow-ID parts, or a poison reason — never an exception — and answers the same twice (a
 * redelivered record must get the same event ID). The seed is in the suite's title;
 * FUZZ_SEED=<seed> replays a failure.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateItemId } from '../src/sources/item-id';
import { objectCreatedEventId, positionEventId } from '../src/topics/event-ids';
import type { Client } from '@temporalio/client';
import { bucketUploadSubscriber } from '../src/client/bucket-uploads';
import { UnusableEventError } from '../src/client/event-router';
import { BlobStore } from '../src/storage/blob-store';
import type { BatchConfig } from '../src/infra/config';
import { S3ObjectStore } from '../src/storage/s3-store';
import { decodedKey, parseTopicRecord } from '../src/topics/topic-events';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const maxBytes = 64 * 1024;

const hostile = fc.constantFrom<unknown>(
  '__proto__',
  'constructor',
  { toString: 'x' },
  '../../etc/passwd',
  '\u0000',
  '%E0%A4%A',
  '+%2B+',
  'a'.repeat(300),
  null,
  [],
  1e308,
  -0,
  true,
);
const value = fc.oneof(fc.jsonValue(), hostile);
const position = fc.record({
  topic: fc.stringMatching(/^[A-Za-z0-9._-]{1,249}$/),
  partition: fc.nat(1000),
  offset: fc.bigInt(0n, 2n ** 63n - 1n),
});
const s3Record = fc.record(
  {
    eventName: fc.oneof(
      fc.constantFrom('s3:ObjectCreated:Put', 'ObjectCreated:CompleteMultipartUpload', 's3:ObjectRemoved:Delete'),
      value,
    ),
    eventTime: fc.oneof(fc.string(), value),
    s3: fc.oneof(
      fc.record(
        {
          bucket: fc.oneof(fc.record({ name: fc.oneof(fc.string(), value) }), value),
          object: fc.oneof(
            fc.record(
              {
                key: fc.oneof(fc.string(), value),
                eTag: fc.oneof(fc.string(), value),
                size: fc.oneof(fc.nat(), value),
              },
              { requiredKeys: [] },
            ),
            value,
          ),
        },
        { requiredKeys: [] },
      ),
      value,
    ),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  value,
  fc.record(
    { id: fc.oneof(fc.string(), value), data: fc.oneof(fc.dictionary(fc.string(), value), value) },
    { requiredKeys: [] },
  ),
  fc.record({ id: fc.string(), data: fc.object(), extra: value }),
  fc.record({ Records: fc.oneof(fc.array(fc.oneof(s3Record, value), { maxLength: 4 }), value) }),
  fc.constant({ Event: 's3:TestEvent' }),
);
const bytes = fc.oneof(
  body.map((b) => Buffer.from(JSON.stringify(b) ?? 'undefined')),
  fc.uint8Array({ maxLength: 256 }).map((a) => Buffer.from(a)),
  fc.string().map((s) => Buffer.from(s)),
  fc.constant(undefined),
);
const key = fc.option(
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  { nil: undefined },
);

describe(`topic record parser fuzzing (seed ${seed})`, () => {
  it('returns usable event IDs or a poison reason, never throws, and is deterministic', () => {
    fc.assert(
      fc.property(bytes, key, position, (record, recordKey, where) => {
        const first = parseTopicRecord(record, recordKey, where, maxBytes);
        const again = parseTopicRecord(record, recordKey, where, maxBytes);
        assert.deepEqual(again, first);
        if ('poison' in first) {
          assert.ok(first.poison.length > 0 && first.poison.length < 1000, 'a short, non-empty reason');
          return;
        }
        for (const event of first.events) {
          validateItemId(event.id, 'fuzzed event'); // throws when the ID could not name a workflow
          assert.equal(typeof event.data, 'object');
          assert.ok(!Array.isArray(event.data));
          assert.equal(event.position, where);
        }
      }),
      { seed, numRuns: 2000 },
    );
  });

  it('derives IDs usable as workflow-ID parts from any bucket, key, ETag and position', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), position, (bucket, objectKey, etag, where) => {
        validateItemId(objectCreatedEventId(bucket, objectKey, etag), 'S3 event');
        validateItemId(positionEventId(where), 'position event');
        // The quotes S3 puts around ETags (hex digests, '-<parts>' for multipart) do not make another event.
        const digest = Buffer.from(etag).toString('hex') + (etag.length % 2 ? `-${etag.length}` : '');
        assert.equal(
          objectCreatedEventId(bucket, objectKey, `"${digest}"`),
          objectCreatedEventId(bucket, objectKey, digest),
        );
      }),
      { seed, numRuns: 1000 },
    );
  });

  it('reads the Versity gateway notifications: one event per upload, keyed by the object, the ID from bucket/key/ETag only', () => {
    // The shape the gateway sends (found by a real run, test/cattube.test.ts): keys as stored, not URL-encoded.
    const notification = (bucket: string, objectKey: string, etag: string, sequencer: number, time: string) => ({
      Records: [
        {
          eventVersion: '2.2',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventTime: time,
          eventName: sequencer % 2 ? 's3:ObjectCreated:Put' : 's3:ObjectCreated:CompleteMultipartUpload',
          userIdentity: { PrincipalId: 'batch0123' },
          requestParameters: { sourceIPAddress: '127.0.0.1' },
          responseElements: { 'x-amz-request-id': '', 'x-amz-id-2': '' },
          s3: {
            s3SchemaVersion: '1.0',
            configurationId: 'webhook-global',
            bucket: {
              name: bucket,
              ownerIdentity: { PrincipalId: 'batch0123' },
              arn: `arn:aws:s3:::/${bucket}/${objectKey}`,
            },
            object: { key: objectKey, size: 0, eTag: `"${etag}"`, versionId: null, sequencer: sequencer.toString(16) },
          },
          glacierEventData: { restoreEventData: {} },
        },
      ],
    });
    const objectKey = fc.oneof(
      fc.string({ minLength: 1 }),
      fc.constantFrom('cats/my clip+1%.mp4', 'a%2Fb.mp4', '../../x.mp4', 'ünï/cödé.mkv'),
    );
    const etag = fc.stringMatching(/^[0-9a-f]{32}(-[1-9][0-9]{0,3})?$/);
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/),
        objectKey,
        etag,
        etag,
        fc.nat(),
        fc.nat(),
        position,
        (bucket, k, tag, otherTag, seqA, seqB, where) => {
          const parse = (n: object, at = where) =>
            parseTopicRecord(Buffer.from(JSON.stringify(n)), Buffer.alloc(0), at, maxBytes);
          const first = parse(notification(bucket, k, tag, seqA, '2026-12-01T06:00:00Z'));
          assert.ok('events' in first && first.events.length === 1, 'poison' in first ? first.poison : 'not one event');
          const [event] = first.events;
          validateItemId(event.id, 'S3 event');
          assert.equal(event.idFrom, 'content');
          assert.equal(event.data.key, k, 'the key as sent, for the subscriber to look up');
          assert.equal(event.data.bucket, bucket);
          assert.ok(
            event.key === `${bucket}/${k}` || event.key === `${bucket}/${decodeURIComponent(k.replace(/\+/g, ' '))}`,
          );
          // Notified again (another sequencer, time, offset): the same event. New content: another event.
          const again = parse(notification(bucket, k, tag, seqB, '2026-12-01T07:00:00Z'), {
            ...where,
            offset: where.offset + 1n,
          });
          assert.equal('events' in again && again.events[0].id, event.id);
          const changed = parse(notification(bucket, k, otherTag, seqA, '2026-12-01T06:00:00Z'));
          assert.equal('events' in changed && changed.events[0].id === event.id, tag === otherTag);
        },
      ),
      { seed, numRuns: 1000 },
    );
  });

  it('the upload subscriber refuses any notification it cannot take with a reason, before touching S3 or Temporal', async () => {
    const work = new S3ObjectStore({
      endpoint: 'http://127.0.0.1:9',
      bucket: 'work',
      region: 'us-east-1',
      accessKeyId: 'k',
      secretAccessKey: 's',
      forcePathStyle: true,
      prefix: '',
    });
    // Neither Temporal nor S3 is reachable: refusals must come from the event alone.
    const subscriber = bucketUploadSubscriber({
      client: {} as Client,
      config: {} as BatchConfig,
      store: new BlobStore(work),
      uploads: { bucket: 'uploads', prefix: 'cats/', maxBytes: 1024 },
    });
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            bucket: fc.oneof(fc.constantFrom('uploads', 'work', 'other'), value),
            key: fc.oneof(
              fc.constantFrom('cats/a.mp4', 'cats/a.txt', 'dogs/a.mp4', 'cats/../a.mp4', 'cats/'),
              fc.string(),
              value,
            ),
            etag: fc.oneof(fc.constantFrom('"abc"', ''), value),
          },
          { requiredKeys: [] },
        ),
        async (data) => {
          let outcome: string;
          try {
            await subscriber({ id: 'e1', data: data as Record<string, unknown> }, 'event-e1');
            outcome = 'accepted';
          } catch (error) {
            assert.ok(error instanceof UnusableEventError, `refused with a reason, not ${String(error)}`);
            assert.ok(error.message.length > 0 && error.message.length < 2000);
            outcome = 'refused';
          }
          const takes =
            typeof data.bucket === 'string' &&
            typeof data.key === 'string' &&
            ((data.bucket === 'uploads' &&
              (data.key.startsWith('cats/') || (decodedKey(data.key) ?? '').startsWith('cats/')) &&
              /\.(mp4|m4v|mov|mkv|webm|avi|mpg|mpeg|ts|3gp)$/i.test(decodedKey(data.key) ?? data.key) &&
              typeof data.etag === 'string' &&
              data.etag !== '') ||
              (data.bucket === 'work' && data.key !== ''));
          assert.equal(outcome, takes ? 'accepted' : 'refused', JSON.stringify(data));
        },
      ),
      { seed, numRuns: 500 },
    );
  });

  it('refuses records larger than the limit before reading them', () => {
    const big = Buffer.from(JSON.stringify({ id: 'big', data: { blob: 'x'.repeat(maxBytes) } }));
    const parsed = parseTopicRecord(big, undefined, { topic: 't', partition: 0, offset: 0n }, maxBytes);
    assert.deepEqual(parsed, { poison: `oversized: ${big.length} bytes, more than the ${maxBytes} an event may have` });
  });
});
