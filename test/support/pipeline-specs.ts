/** Pipeline specs that both a test and scripts/record-histories.ts run. */
import type { PipelineSpec } from '../../src/pipelines/spec';

/**
 * A run-wide join: each item sleeps its `data.sleepMs` in `work`, waits at `barrier` until every
 * partition of the run got there, then is annotated in batches of `batchSize` and counted in `done`.
 */
export function runJoinSpec(partitionSize: number, batchSize: number): PipelineSpec {
  return {
    name: 'run-join',
    start: 'work',
    partitionSize,
    stages: {
      work: { kind: 'activity', activity: 'sleep', next: 'barrier' },
      barrier: { kind: 'join', next: 'after' },
      after: { kind: 'activity', activity: 'annotate', batchSize, next: 'done' },
      done: { kind: 'reduce', histogram: ['trail'] },
    },
  };
}
