/**
 * The report step of reduce stages (`report: { activity }` in a spec): once a run's partitions are
 * all done, each reduce stage with a report hands its merged aggregate to the report activity,
 * which writes files (e.g. JSON and an SVG chart). Once per run, not per partition, so a report
 * always sees every item. Specs without reports schedule nothing here.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { ReportActivity, ReportFiles } from '../activities/pipeline/report-types';
import type { PipelineSpec, ReduceReport, ReduceResult } from '../pipelines/spec';
import { emptyReduce } from './patterns/reduce';

/** Reduce stages that have a report step, in spec order. */
export function reportsOf(spec: PipelineSpec): { stage: string; report: ReduceReport }[] {
  return Object.entries(spec.stages).flatMap(([stage, s]) =>
    s.kind === 'reduce' && s.report ? [{ stage, report: s.report }] : [],
  );
}

/** Runs every report of the spec on the run's merged aggregates; the files each wrote, by stage. */
export async function runReports(
  spec: PipelineSpec,
  run: string,
  taskQueue: string,
  reductions: Record<string, ReduceResult>,
): Promise<Record<string, ReportFiles>> {
  const written = await Promise.all(
    reportsOf(spec).map(async ({ stage, report }) => {
      const activities = proxyActivities<Record<string, ReportActivity>>({
        summary: `${report.activity} of ${stage}`,
        taskQueue,
        startToCloseTimeout: '2 minutes',
        heartbeatTimeout: '30 seconds',
        retry: {
          initialInterval: '1 second',
          backoffCoefficient: 2,
          maximumAttempts: 5,
          nonRetryableErrorTypes: ['InvalidInput'],
        },
      });
      // A reduce stage no item reached still gets its (empty) report.
      const reduction = reductions[stage] ?? emptyReduce();
      const files = await activities[report.activity]({ pipeline: spec.name, run, stage, reduction });
      return [stage, files] as const;
    }),
  );
  return Object.fromEntries(written);
}
