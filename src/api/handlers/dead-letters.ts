/**
 * A finished run's dead letters (GET …/dead-letters) and their redrive (POST …/dead-letters/redrive):
 * one new run per stage they failed at, entering there, at a lower priority than new work.
 * Redriving twice starts nothing new (the redrive runs' workflow IDs derive from the run).
 */
import { listDeadLetters, redriveDeadLetters } from '../../client/dead-letters';
import type { ApiContext, ApiRequest, ApiResponse } from '../context';
import { ApiError } from '../errors';
import type { RunParams } from '../schemas';
import { runRef } from './run-ref';
import { describePipelineRun } from './runs';

/** Dead letters exist once a run is over: a running one is a 409 saying to wait. */
async function finishedRun(req: ApiRequest<RunParams>, ctx: ApiContext): Promise<string> {
  const description = await describePipelineRun(ctx, req);
  if (description.status.name === 'RUNNING')
    throw new ApiError(
      409,
      'RunStillRunning',
      `Run ${description.workflowId} is still running; its dead letters are known when it has finished (GET ${runRef(ctx, description.workflowId).status}).`,
    );
  return description.workflowId;
}

export async function getDeadLetters(req: ApiRequest<RunParams>, ctx: ApiContext): Promise<ApiResponse> {
  const workflowId = await finishedRun(req, ctx);
  return { status: 200, body: { workflowId, deadLetters: await listDeadLetters(ctx.client, workflowId) } };
}

export async function redrive(req: ApiRequest<RunParams>, ctx: ApiContext): Promise<ApiResponse> {
  const workflowId = await finishedRun(req, ctx);
  const handles = await redriveDeadLetters(ctx.client, ctx.config, workflowId);
  const runs = handles.map((h) => runRef(ctx, h.workflowId));
  return { status: runs.length > 0 ? 202 : 200, body: { workflowId, runs } };
}
