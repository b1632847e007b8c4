/**
 * GET /pipelines/{pipeline}/runs/{run}: a run's status and progress. A running run answers the
 * `progress` query of pipelineRun (src/workflows/pipeline.ts); a finished one its outcome, so
 * a client polling until `done == total` sees the same numbers before and after the end.
 */
import { WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { finishedRunOutcome } from '../../client/dead-letters';
import { pipelineWorkflowId } from '../../client/pipeline-run';
import { pipelineProgressQuery, progressOf, type pipelineRun } from '../../workflows/pipeline';
import type { ApiContext, ApiRequest, ApiResponse } from '../context';
import { ApiError } from '../errors';
import type { RunParams } from '../schemas';
import { runRef } from './run-ref';

/** The run's workflow, described; 404 when there is none or it is not a pipeline run. */
export async function describePipelineRun(
  ctx: ApiContext,
  req: ApiRequest<RunParams>,
): Promise<WorkflowExecutionDescription> {
  const workflowId = pipelineWorkflowId(req.params.pipeline, req.params.run);
  const notFound = () =>
    new ApiError(
      404,
      'UnknownRun',
      `No run "${req.params.run}" of pipeline "${req.params.pipeline}" (workflow ID ${workflowId}); check the names the start answered.`,
    );
  try {
    const description = await ctx.client.workflow.getHandle(workflowId).describe();
    if (description.type !== 'pipelineRun') throw notFound();
    return description;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notFound();
    throw error;
  }
}

export async function getRun(req: ApiRequest<RunParams>, ctx: ApiContext): Promise<ApiResponse> {
  const description = await describePipelineRun(ctx, req);
  const ref = runRef(ctx, description.workflowId);
  const base = { pipeline: ref.pipeline, run: ref.run, workflowId: ref.workflowId, status: description.status.name };
  if (description.status.name === 'RUNNING') {
    const handle = ctx.client.workflow.getHandle<typeof pipelineRun>(description.workflowId);
    const progress = await handle.query(pipelineProgressQuery);
    return { status: 200, body: { ...base, progress, webUi: ref.webUi } };
  }
  try {
    const outcome = await finishedRunOutcome(ctx.client, description.workflowId);
    const failure =
      description.status.name === 'COMPLETED'
        ? {}
        : {
            failure: `${outcome.deadLettered} of ${outcome.total} items were dead-lettered, more than the pipeline's toleratedFailurePercent; see its dead letters.`,
          };
    const body = {
      ...base,
      progress: progressOf(outcome, 0, { total: outcome.partitions, done: outcome.partitions, running: 0 }),
      reduce: outcome.reduce,
      ...failure,
      webUi: ref.webUi,
    };
    return { status: 200, body };
  } catch (error) {
    // Terminated, cancelled, or failed for another reason than too many dead letters.
    const failure =
      error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    return { status: 200, body: { ...base, failure, webUi: ref.webUi } };
  }
}
