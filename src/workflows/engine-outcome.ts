/**
 * What a partition's engine reports: counts per stage, dead letters and reductions. Types only,
 * apart from the engine, so the metrics it emits (metrics.ts) can name them without importing it.
 */
import type { PipelineItem, ReduceResult } from '../pipelines/spec';

export interface StageCounts {
  entered: number;
  passed: number;
  dropped: number;
  deadLettered: number;
}

export interface DeadLetter {
  itemId: string;
  stage: string;
  error: { type: string; message: string };
  attempts: number;
  input: PipelineItem;
}

export interface EngineOutcome {
  total: number;
  completed: number;
  dropped: number;
  deadLettered: number;
  stages: Record<string, StageCounts>;
  deadLetters: DeadLetter[];
  reduce: Record<string, ReduceResult>;
}
