/**
 * Per-item results of a pipeline run, written as JSON Lines parts (like Step Functions'
 * ResultWriter): `<dataDir>/results/<pipeline>/<run>/part-NNNNN.jsonl`, one line per item of a
 * partition, so no list of outcomes travels in a payload. Plain types: workflows import them.
 */
import type { PipelineItem } from '../../pipelines/spec';

export type ResultStatus = 'completed' | 'dropped' | 'deadLettered';

/** One item's line in a results part. */
export interface ResultLine {
  id: string;
  status: ResultStatus;
  /** Where the item ended: its last stage (completed), the filter that dropped it, the stage that failed it. */
  stage: string;
  /** The item's data as it left the pipeline (completed items). */
  data?: Record<string, unknown>;
  /** Why it was dead-lettered, how many attempts it took, and the item as it entered that stage (for a redrive). */
  error?: { type: string; message: string };
  attempts?: number;
  input?: PipelineItem;
}

/** One call writing (a chunk of) a results part; chunks are written in order, the last one assembles the part. */
export interface ResultsPartCall {
  pipeline: string;
  run: string;
  /** File name without `.jsonl`: `part-00003` (a copy branch: `part-00003.<copy>-<batch>.<branch>`). */
  part: string;
  chunk: number;
  chunks: number;
  lines: ResultLine[];
}

export interface ResultsPartFile {
  /** Absolute path of the part, once its last chunk is written. */
  path: string;
  lines: number;
}

/** Dead letters that look alike: same stage, error type and message pattern (IDs, paths, numbers masked). */
export interface FailureGroup {
  stage: string;
  type: string;
  pattern: string;
  /** The first example's whole message (the pattern masks its paths and numbers). */
  message: string;
  count: number;
  /** Up to 3 item IDs of the group. */
  examples: string[];
}

/** What the results parts of a run hold, in a few lines: counts, failure groups, examples. */
export interface ResultsSummary {
  /** Absolute path of the run's results folder. */
  dir: string;
  parts: number;
  counts: Record<ResultStatus, number>;
  /** Largest first, at most {@link maxFailureGroups}; `otherFailureGroups` counts the rest. */
  failureGroups: FailureGroup[];
  otherFailureGroups: number;
  /** A few completed item IDs. */
  completedExamples: string[];
}

export const maxFailureGroups = 20;
export const examplesPerGroup = 3;

/** A page of a run's items from its manifest (items by reference: the run's input stays small). */
export interface ItemsPageCall {
  path: string;
  from: number;
  count: number;
}

/** The run whose results parts to summarize. */
export interface ResultsRef {
  pipeline: string;
  run: string;
}

export function partName(partition: number): string {
  return `part-${String(partition).padStart(5, '0')}`;
}
