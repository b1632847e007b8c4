/**
 * The work-queue core's vocabulary (chapter 10 of the seeds): a batch is a list of independent
 * work items; each ends in exactly one outcome. Plain types only: workflows import them.
 */

/** One unit of work. `id` is stable and filesystem-safe: it names outputs and workflow IDs. */
export interface WorkItem<P = unknown> {
  id: string;
  payload: P;
}

export interface ItemFailure {
  /** The stage (activity) that failed last, e.g. `extractFrame`. */
  stage: string;
  /** Failure type, e.g. `InvalidInput` for bad media; `Timeout` or the error class otherwise. */
  type: string;
  message: string;
}

export type ItemOutcome<R> =
  { itemId: string; status: 'succeeded'; result: R } | { itemId: string; status: 'failed'; failure: ItemFailure };

export interface BatchProgress {
  total: number;
  done: number;
  succeeded: number;
  failed: number;
  running: number;
  /** Which stage each running item is in, e.g. `{ extractFrame: 2, makeThumbnails: 1 }`. */
  runningByStage: Record<string, number>;
}
