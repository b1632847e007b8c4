/**
 * Workflow types that new runs no longer use: the first thumbnailer (its own batch loop,
 * src/workflows/batch.ts) and the first transcode flow (a child workflow per upload and per
 * rendition). Both flows now run on the pipeline engine; these types stay registered so that runs
 * started before the change finish and their recorded histories replay. They go once none of them
 * is running in any namespace a worker serves — the drain: `npm run cli -- retired` (or the
 * query below in the Web UI) shows 0 everywhere; docs/architecture.md says what to delete then.
 */
import type { Client } from '@temporalio/client';

export const retiredWorkflowTypes = ['thumbnailer', 'transcode', 'transcodeUpload', 'transcodeRendition'] as const;
export type RetiredWorkflowType = (typeof retiredWorkflowTypes)[number];

/** The visibility query of running executions of one retired type (also usable in the Web UI). */
export const runningQuery = (type: RetiredWorkflowType) => `WorkflowType = '${type}' AND ExecutionStatus = 'Running'`;

/** How many executions of each retired type still run; all 0 means the types can go. */
export async function runningRetiredWorkflows(client: Client): Promise<Record<RetiredWorkflowType, number>> {
  const counts = await Promise.all(
    retiredWorkflowTypes.map(async (type) => [type, (await client.workflow.count(runningQuery(type))).count] as const),
  );
  return Object.fromEntries(counts) as Record<RetiredWorkflowType, number>;
}

/** One line per type and the verdict, for a person deciding whether to remove the old code. */
export function formatRetiredReport(counts: Record<RetiredWorkflowType, number>): string {
  const lines = retiredWorkflowTypes.map((type) => `${type}\t${counts[type]} running`);
  const running = Object.values(counts).reduce((a, b) => a + b, 0);
  lines.push(
    running === 0
      ? 'Drained: no run of a retired workflow type is running here; they can be removed (docs/architecture.md).'
      : `Not drained: ${running} run(s) of retired types still running; keep their workflow code registered until they finish.`,
  );
  return lines.join('\n');
}
