import type { PipelineItem } from '../../pipelines/spec';

/** One call of a stage activity: a batch of items (often one). Plain types: workflows import them. */
export interface StageCall {
  pipeline: string;
  run: string;
  stage: string;
  items: PipelineItem[];
  /** True when the items are retried one by one: an item's failure is thrown so Temporal retries it. */
  isolated: boolean;
  /**
   * The caller keeps the items it sent: an item whose data a stage returns unchanged (the very object it got) is
   * answered `{ id, ok: true }` without its data, so the same bytes are not stored twice in the history.
   */
  keepsUnchanged?: boolean;
}

export interface StageItemError {
  type: string;
  message: string;
  retryable: boolean;
}

export type StageItemResult =
  { id: string; ok: true; data: Record<string, unknown> } | { id: string; ok: false; error: StageItemError };
/** What a call that `keepsUnchanged` gets: also `{ id, ok: true }`, no data, for an item its stage left as it came. */
export type StageItemAnswer = StageItemResult | { id: string; ok: true; data?: undefined };
/** A stage activity: every item answered with its data, unless the call `keepsUnchanged`. */
export interface StageActivity {
  (call: StageCall & { keepsUnchanged: true }): Promise<StageItemAnswer[]>;
  (call: StageCall): Promise<StageItemResult[]>;
}
