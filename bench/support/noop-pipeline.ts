/**
 * The no-op pipeline the throughput benchmarks run (bench/pipeline-throughput.ts,
 * bench/cluster-vs-dev-server.ts): copy → two branches of filter → split → no-op activity → merge.
 */
import type { PipelineSpec, Predicate } from '../../src/pipelines/spec';
import { validatePipelineSpec } from '../../src/pipelines/validate';

/** The filter of both branches (and of the naive design): keeps 90 % of the items (drops ids ending in 7). */
export const keep: Predicate = { not: { field: '$id', op: 'matches', value: '7$' } };
const even: Predicate = { field: '$id', op: 'matches', value: '[02468]$' };

/** How many of the ids 0..n-1 `keep` keeps (those not ending in 7). */
export const keptOf = (n: number) => n - Math.floor((n + 2) / 10);

function branch(prefix: string, batchSize: number): PipelineSpec['stages'] {
  return {
    [`${prefix}-filter`]: { kind: 'filter', where: keep, next: `${prefix}-split` },
    [`${prefix}-split`]: { kind: 'split', routes: [{ when: even, to: `${prefix}-even` }], default: `${prefix}-odd` },
    [`${prefix}-even`]: { kind: 'activity', activity: 'noop', batchSize, next: 'merge' },
    [`${prefix}-odd`]: { kind: 'activity', activity: 'noop', batchSize, next: 'merge' },
  };
}

/** The spec, validated; `merge` counts every item twice (once per branch) that `keep` keeps. */
export function noopPipelineSpec(settings: { partitionSize: number; concurrency: number; batchSize: number }) {
  return validatePipelineSpec({
    name: 'bench-noop',
    start: 'copy',
    partitionSize: settings.partitionSize,
    concurrency: settings.concurrency,
    stages: {
      copy: { kind: 'copy', to: ['a-filter', 'b-filter'] },
      ...branch('a', settings.batchSize),
      ...branch('b', settings.batchSize),
      merge: { kind: 'reduce' },
    },
  } satisfies PipelineSpec);
}
