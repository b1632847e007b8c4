/** Pipeline specs that both a test and scripts/record-histories.ts run. */
import type { PipelineSpec, SplitStage } from '../../src/pipelines/spec';

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

/** A split by `data.channel`: "email" to `email`, "sms" to `sms`, anything else to `other`. */
export const channelSplit: SplitStage = {
  kind: 'split',
  routes: [
    { when: { field: 'channel', op: 'eq', value: 'email' }, to: 'email' },
    { when: { field: 'channel', op: 'eq', value: 'sms' }, to: 'sms' },
  ],
  default: 'other',
};
