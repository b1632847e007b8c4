/**
 * What a person names as the items of a run, read by the item reader (src/activities/pipeline/
 * item-reader.ts) in pages: `s3://bucket/prefix/` (one item per object), `s3://bucket/items.jsonl`
 * (one item per line) or `s3://bucket/items.csv` (one per row after a header row). Used by the CLI
 * (`--items`) and available to the API, so both accept the same URIs with the same errors.
 */
import type { ItemReaderSpec } from '../pipelines/item-reader-types';

/** True when `target` names objects in S3 rather than files on this host. */
export const isObjectUri = (target: string): boolean => target.startsWith('s3://');

/** The item reader for an `s3://` URI; an error saying how to write one otherwise. */
export function itemReaderOf(uri: string): ItemReaderSpec {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/.exec(uri);
  if (!match) {
    throw new Error(
      `${JSON.stringify(uri)} is not an S3 URI of items: write s3://<bucket>/<prefix>/ (one item per object), s3://<bucket>/<name>.jsonl or s3://<bucket>/<name>.csv.`,
    );
  }
  const key = (match[2] ?? '/').slice(1);
  if (key === '' || key.endsWith('/')) return { uri, format: 'listing' };
  const lower = key.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return { uri, format: 'jsonl' };
  if (lower.endsWith('.csv')) return { uri, format: 'csv' };
  throw new Error(
    `${uri} is neither a prefix nor a .jsonl or .csv object: end a prefix with "/" to read one item per object (${uri}/), or name a .jsonl or .csv object of items.`,
  );
}
