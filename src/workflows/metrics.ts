/**
 * The pipeline's item counters, emitted from workflow code through the SDK's workflow metric
 * meter. It hands values to the worker's Prometheus exporter through an internal sink, only when
 * the code is not replaying (so a replay never counts twice), and records no history event, so
 * emitting changes no workflow command and recorded histories still replay.
 */
import { metricMeter, workflowInfo } from '@temporalio/workflow';
import { metricNames, PipelineItemOutcome, StageItemOutcome } from '../core/metrics';
import type { EngineOutcome, StageCounts } from './engine-outcome';

/** StageCounts field → the metric's `outcome` label. */
export const stageOutcomeLabels: Record<Exclude<keyof StageCounts, 'entered'>, StageItemOutcome> = {
  passed: 'passed',
  dropped: 'dropped',
  deadLettered: 'dead_lettered',
};

/**
 * A partition's stage counts, summed in workflow code and emitted a few sums at a time: every
 * emission leaves the sandbox, and one per item cost a third of the no-op benchmark's throughput.
 */
export class StageItemMetrics {
  private readonly pending = new Map<string, { stage: string; outcome: StageItemOutcome; n: number }>();

  constructor(private readonly pipeline: string) {}

  add(stage: string, outcome: StageItemOutcome): void {
    // What a replay re-counts was emitted when it first ran.
    if (workflowInfo().unsafe.isReplaying) return;
    const key = `${stage}\n${outcome}`;
    const entry = this.pending.get(key);
    if (entry) entry.n += 1;
    else this.pending.set(key, { stage, outcome, n: 1 });
  }

  /** Emits the sums counted since the last flush. */
  flush(): void {
    if (this.pending.size === 0) return;
    const counter = metricMeter.createCounter(metricNames.stageItems, 'items', 'Items that left a pipeline stage');
    for (const { stage, outcome, n } of this.pending.values())
      counter.add(n, { pipeline: this.pipeline, stage, outcome });
    this.pending.clear();
  }
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
