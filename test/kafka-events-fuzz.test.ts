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
import { parseTopicRecord } from '../src/topics/topic-events';

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

  it('refuses records larger than the limit before reading them', () => {
    const big = Buffer.from(JSON.stringify({ id: 'big', data: { blob: 'x'.repeat(maxBytes) } }));
    const parsed = parseTopicRecord(big, undefined, { topic: 't', partition: 0, offset: 0n }, maxBytes);
    assert.deepEqual(parsed, { poison: `oversized: ${big.length} bytes, more than the ${maxBytes} an event may have` });
  });
});
