/** Pipeline specs and checks that several tests (and scripts/record-histories.ts) share. */
import assert from 'node:assert/strict';
import type { PipelineSpec, SplitStage } from '../../src/pipelines/spec';
import { PipelineSpecError, validatePipelineSpec, type SpecProblem } from '../../src/pipelines/validate';

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

/** The problems validatePipelineSpec throws for `spec` (fails when it does not throw). */
export function problemsOf(spec: unknown): SpecProblem[] {
  try {
    validatePipelineSpec(spec);
  } catch (error) {
    assert.ok(error instanceof PipelineSpecError, `expected a PipelineSpecError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected the spec to be invalid');
}
