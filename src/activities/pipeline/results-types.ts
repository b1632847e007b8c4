/**
 * Per-item results of a pipeline run, written as JSON Lines parts plus a manifest (like Step
 * Functions' ResultWriter): `results/<pipeline>/<run>/part-NNNNN.jsonl` (one line per item of a
 * partition) and `results/<pipeline>/<run>/manifest.json` in the object store — under `<dataDir>`
 * on the local backend, in the bucket on S3 — so no list of outcomes travels in a payload.
 * Plain types: workflows import them.
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
  /** URI of the part (a path on the local backend), once its last chunk is written. */
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
  /** Where the run's parts are: a folder path on the local backend, `s3://bucket/results/<pipeline>/<run>` on S3. */
  dir: string;
  /** URI of the run's `manifest.json` (parts and counts); absent for runs before manifests. */
  manifest?: string;
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

/**
 * The run's `manifest.json`, written beside its parts when the run closes: what a reader of the
 * results opens first (every part with its line count, and the counts by status).
 */
export interface ResultsManifest {
  pipeline: string;
  run: string;
  format: 'jsonl';
  /** Where the parts are (`dir` of the summary). */
  results: string;
  /** Lines in all parts: one per item (and per copy of an item in a copy branch). */
  items: number;
  counts: Record<ResultStatus, number>;
  parts: { uri: string; lines: number; bytes: number }[];
}

/** A page of a run's items from its manifest (items by reference: the run's input stays small). */
export interface ItemsPageCall {
  /** URI of the run's `inputs/<pipeline>/<run>/items.jsonl` in the object store. */
  uri?: string;
  /** Runs started before the object store: the manifest's path under `<dataDir>/inputs`. */
  path?: string;
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
