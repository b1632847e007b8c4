/**
 * The event ID a pipeline's sink gives an item: derived from the pipeline, the run and the item,
 * so publishing the same item again (a retried activity, a worker killed after the broker took
 * the record) carries the same ID, and the runs it starts downstream (workflow IDs named after the
 * event ID) start once.
 */
import { createHash } from 'node:crypto';

const usable = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Room for the subscriber's prefixes (`<pipeline>/event-<id>`) in a workflow ID; event IDs may have 128. */
const maxLength = 100;

/** `<pipeline>.<run>.<item>` when that is a usable ID; else its readable start and a hash of all three. */
export function sinkEventId(pipeline: string, run: string, itemId: string): string {
  const plain = `${pipeline}.${run}.${itemId}`;
  if (plain.length <= maxLength && usable.test(plain)) return plain;
  const hash = createHash('sha256').update([pipeline, run, itemId].join('\0')).digest('hex').slice(0, 24);
  const start = plain
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, maxLength - hash.length - 1);
  return start ? `${start}-${hash}` : `sink-${hash}`;
}
