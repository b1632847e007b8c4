/**
 * Follows a run for a person: its progress (a `progress` query) formatted and logged about every
 * `everyMs` whenever the line changes, until the run ends; then its result.
 */
import type { QueryDefinition } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { pipelineProgressQuery, type pipelineRun, type PipelineRunResult } from '../workflows/pipeline';
import { formatPipelineProgress } from './pipeline-summary';

interface WatchedRun<R> {
  query<P>(def: QueryDefinition<P, []>): Promise<P>;
  result(): Promise<R>;
}

export async function watchRun<R, P>(
  handle: WatchedRun<R>,
  progressQuery: QueryDefinition<P, []>,
  format: (progress: P) => string,
  log: (line: string) => void,
  everyMs = 1000,
): Promise<R> {
  let shown = '';
  let running = true;
  const ticker = setInterval(() => {
    handle.query(progressQuery).then(
      (progress) => {
        const line = format(progress);
        // An answer that arrives after the result would print below the caller's summary.
        if (running && line !== shown) log((shown = line));
      },
      () => undefined, // not answering yet (starting) or any more (done): the result says the rest
    );
  }, everyMs);
  try {
    return await handle.result();
  } finally {
    running = false;
    clearInterval(ticker);
  }
}

export function watchPipelineRun(
  handle: WorkflowHandle<typeof pipelineRun>,
  log: (line: string) => void,
): Promise<PipelineRunResult> {
  return watchRun(handle, pipelineProgressQuery, formatPipelineProgress, log);
}
