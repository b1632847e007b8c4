/**
 * Follows a pipeline run for a person: a progress bar (the run's `progress` query) logged about
 * every second whenever it changes, until the run ends; then its result.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { pipelineProgressQuery, type pipelineRun, type PipelineRunResult } from '../workflows/pipeline';
import { formatPipelineProgress } from './pipeline-summary';

export async function watchPipelineRun(
  handle: WorkflowHandle<typeof pipelineRun>,
  log: (line: string) => void,
): Promise<PipelineRunResult> {
  let shown = '';
  let running = true;
  const ticker = setInterval(() => {
    handle.query(pipelineProgressQuery).then(
      (progress) => {
        const line = formatPipelineProgress(progress);
        // An answer that arrives after the result would print below the caller's summary.
        if (running && line !== shown) log((shown = line));
      },
      () => undefined, // not answering yet (starting) or any more (done): the result says the rest
    );
  }, 1000);
  try {
    return await handle.result();
  } finally {
    running = false;
    clearInterval(ticker);
  }
}
