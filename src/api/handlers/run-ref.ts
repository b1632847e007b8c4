/**
 * How answers point at a run: its pipeline, run name and workflow ID, this API's status URL and
 * the Temporal Web UI link, so a client can follow it either way.
 */
import { workflowUrl } from '../../runtime/config';
import type { ApiContext } from '../context';

export interface RunRef {
  pipeline: string;
  run: string;
  workflowId: string;
  started?: boolean;
  status: string;
  webUi: string;
}

/** `/pipelines/<pipeline>/runs/<run>` of a run's workflow ID `<pipeline>/<run>`. */
export function runStatusPath(pipeline: string, run: string): string {
  return `/pipelines/${encodeURIComponent(pipeline)}/runs/${encodeURIComponent(run)}`;
}

export function runRef(ctx: ApiContext, workflowId: string, started?: boolean): RunRef {
  const slash = workflowId.indexOf('/');
  const pipeline = workflowId.slice(0, slash);
  const run = workflowId.slice(slash + 1);
  return {
    pipeline,
    run,
    workflowId,
    ...(started === undefined ? {} : { started }),
    status: runStatusPath(pipeline, run),
    webUi: workflowUrl(ctx.config, workflowId),
  };
}
