import type { WorkflowHandle } from '@temporalio/client';
import { loadConfig, workflowUrl } from '../infra/config';
import type { pipelineRun } from '../workflows/pipeline';
import { formatPipelineSummary } from './pipeline-summary';
import { terminalProgress } from './progress';
import { watchPipelineRun } from './watch-run';

/** `run --wait` and `watch`: the progress bar (one rewritten line on a terminal), then the run's summary. */
export async function followPipelineRun(handle: WorkflowHandle<typeof pipelineRun>, pipeline: string): Promise<void> {
  const view = terminalProgress();
  const result = await watchPipelineRun(handle, view.log, { show: view.show });
  view.end();
  console.log(formatPipelineSummary(pipeline, result, workflowUrl(loadConfig(), handle.workflowId)));
}
