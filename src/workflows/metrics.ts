/**
 * The pipeline's item counters, emitted from workflow code through the SDK's workflow metric
 * meter. It hands values to the worker's Prometheus exporter through an internal sink, only when
 * the code is not replaying (so a replay never counts twice), and records no history event, so
 * emitting changes no workflow command and recorded histories still replay.
 */
import { metricMeter } from '@temporalio/workflow';
import { metricNames, PipelineItemOutcome, StageItemOutcome } from '../core/metrics';
import type { EngineOutcome, StageCounts } from './pipeline-engine';

/** StageCounts field → the metric's `outcome` label. */
export const stageOutcomeLabels: Record<Exclude<keyof StageCounts, 'entered'>, StageItemOutcome> = {
  passed: 'passed',
  dropped: 'dropped',
  deadLettered: 'dead_lettered',
};

export function countStageItem(pipeline: string, stage: string, outcome: StageItemOutcome): void {
  metricMeter
    .createCounter(metricNames.stageItems, 'items', 'Items that left a pipeline stage, by outcome')
    .add(1, { pipeline, stage, outcome });
}

/** A partition's finished items, added to the run's (the same sums as the run's result). */
export function countPipelineItems(pipeline: string, outcome: EngineOutcome): void {
  const counter = metricMeter.createCounter(metricNames.pipelineItems, 'items', 'Items a pipeline run finished');
  const counts: Record<PipelineItemOutcome, number> = {
    completed: outcome.completed,
    dropped: outcome.dropped,
    dead_lettered: outcome.deadLettered,
  };
  for (const [label, n] of Object.entries(counts)) if (n > 0) counter.add(n, { pipeline, outcome: label });
}
