/**
 * Report activities: a reduce stage's optional `report` step. The run workflow calls one once,
 * after every partition is done, with the run's merged aggregate. Plain types: workflows import them.
 */
import type { ReduceResult } from '../../pipelines/spec';

export interface ReportCall {
  pipeline: string;
  run: string;
  /** The reduce stage whose aggregate this is. */
  stage: string;
  reduction: ReduceResult;
}

/** The files a report wrote (absolute paths), for the run's result and summary. */
export interface ReportFiles {
  files: string[];
  /** What the report could not do (e.g. a contact sheet not made), for the summary; the run goes on. */
  notes?: string[];
}

export type ReportActivity = (call: ReportCall) => Promise<ReportFiles>;
