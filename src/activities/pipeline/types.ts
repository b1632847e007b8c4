import type { PipelineItem } from '../../pipelines/spec';

/** One call of a stage activity: a batch of items (often one). Plain types: workflows import them. */
export interface StageCall {
  pipeline: string;
  run: string;
  stage: string;
  items: PipelineItem[];
  /** True when the items are retried one by one: an item's failure is thrown so Temporal retries it. */
  isolated: boolean;
}

export interface StageItemError {
  type: string;
  message: string;
  retryable: boolean;
}

export type StageItemResult =
  { id: string; ok: true; data: Record<string, unknown> } | { id: string; ok: false; error: StageItemError };

export type StageActivity = (call: StageCall) => Promise<StageItemResult[]>;
