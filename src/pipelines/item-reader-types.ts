/**
 * The item reader (like Step Functions' ItemReader): a run's items read from the object store in
 * pages by activities, never all in one payload. A client names where the items are; the run plans
 * its pages (one per partition) with `planItems`, and each partition reads its own page with
 * `readItems`. Plain types: workflows import them.
 */
import type { PipelineItem } from './spec';

/**
 * `listing`: one item per object under a prefix (`s3://bucket/photos/`); `jsonl`: one item per
 * line of a JSON Lines object (`{"id": …, "data": {…}}`); `csv`: one item per row of a CSV object
 * with a header row (the row's fields under the header's names; `id` from an `id` column, else `row-N`).
 */
export type ItemReaderFormat = 'listing' | 'jsonl' | 'csv';

export interface ItemReaderSpec {
  /** `s3://bucket/prefix/`, `s3://bucket/items.jsonl`, `s3://bucket/items.csv`, or a path in the local data folder. */
  uri: string;
  format: ItemReaderFormat;
}

/** Where one page (one partition's items) starts, and how many items it holds. */
export interface ItemPage {
  /** listing: the key after which the page starts (absent on the first page). */
  after?: string;
  /** jsonl/csv: byte offset of the page's first line, and that line's number (1-based, for messages). */
  offset?: number;
  line?: number;
  count: number;
}

export interface ItemPlan {
  total: number;
  pages: ItemPage[];
  /** csv: the header row's column names. */
  columns?: string[];
}

export interface PlanItemsCall {
  reader: ItemReaderSpec;
  /** Items per page: the spec's partition size. */
  pageSize: number;
}

export interface ReadItemsCall {
  reader: ItemReaderSpec;
  page: ItemPage;
  columns?: string[];
}

/** An object, line or row that is not an item: dead-lettered with its reason, the run goes on. */
export interface RefusedItem {
  item: PipelineItem;
  error: { type: string; message: string };
}

export interface ItemsRead {
  items: PipelineItem[];
  refused: RefusedItem[];
}
