/**
 * How answers point at a run: its pipeline, run name and workflow ID, this API's status URL and
 * the Temporal Web UI link, so a client can follow it either way. A flow's run an event started
 * (transcode, signup) is named by its flow and followed in the Web UI.
 */
import type { EventRun } from '../../core/pipeline-event';
import { workflowUrl } from '../../infra/config';
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

export interface FlowRunRef {
  flow: string;
  run: string;
  workflowId: string;
  started: boolean;
  webUi: string;
}

/** How an event's answer lists one of its runs: a pipeline run, or a flow run. */
export function eventRunRef(ctx: ApiContext, eventRun: EventRun): RunRef | FlowRunRef {
  if ('pipeline' in eventRun) return runRef(ctx, eventRun.workflowId, eventRun.started);
  const { flow, run, workflowId, started } = eventRun;
  return { flow, run, workflowId, started, webUi: workflowUrl(ctx.config, workflowId) };
}
