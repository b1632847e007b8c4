/**
 * The dead-letter topic: a record that can never start anything (bad JSON, unknown shape, too
 * big, refused by every subscriber) is copied there with the reason and where it came from, so
 * its partition keeps moving and a person can look at it later (docs/kafka.md shows how).
 */
import type { RecordPosition } from './event-ids';

export interface DeadLetter {
  reason: string;
  topic: string;
  partition: number;
  /** The original record's offset, as a decimal string (offsets are 64-bit). */
  offset: string;
  key?: string;
  /** The original value as text, cut to `valueLimit` bytes (an oversized record would not fit). */
  value: string;
  truncated: boolean;
  deadAt: string;
}

/** Keeps a dead letter well under the broker's default 1 MB record limit. */
export const deadLetterValueLimit = 64 * 1024;

export function deadLetterFor(
  reason: string,
  position: RecordPosition,
  key: Buffer | undefined,
  value: Buffer | undefined,
): DeadLetter {
  const original = value ?? Buffer.alloc(0);
  return {
    reason,
    topic: position.topic,
    partition: position.partition,
    offset: position.offset.toString(),
    ...(key && key.length > 0 ? { key: key.toString('utf8') } : {}),
    value: original.subarray(0, deadLetterValueLimit).toString('utf8'),
    truncated: original.length > deadLetterValueLimit,
    deadAt: new Date().toISOString(),
  };
}
