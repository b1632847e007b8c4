/**
 * Reduce (seeds, ch. 12, coordinated batch processing): fold many results into one — count,
 * sum and histogram. Aggregates are mergeable (partitions and continue-as-new combine them by
 * `mergeReduce`), so they are computed incrementally and never need every item at once.
 */
import { fieldValue } from '../../pipelines/predicate';
import type { PipelineItem, ReduceResult, ReduceStage } from '../../pipelines/spec';

export function emptyReduce(): ReduceResult {
  return { count: 0, sums: {}, histograms: {} };
}

/** Adds one item: numeric fields to their sums; field values (or each value of an array) to histograms. */
export function addToReduce(stage: ReduceStage, acc: ReduceResult, item: PipelineItem): ReduceResult {
  acc.count += 1;
  for (const field of stage.sum ?? []) {
    const value = fieldValue(item, field);
    acc.sums[field] = (acc.sums[field] ?? 0) + (typeof value === 'number' && Number.isFinite(value) ? value : 0);
  }
  for (const field of stage.histogram ?? []) {
    const raw = fieldValue(item, field);
    const values = Array.isArray(raw) ? raw : [raw];
    const bins = (acc.histograms[field] ??= {});
    for (const value of values) {
      const bin = value === undefined ? '(missing)' : String(value);
      bins[bin] = (bins[bin] ?? 0) + 1;
    }
  }
  return acc;
}

export function mergeReduce(a: ReduceResult, b: ReduceResult): ReduceResult {
  const out: ReduceResult = { count: a.count + b.count, sums: { ...a.sums }, histograms: {} };
  for (const [field, sum] of Object.entries(b.sums)) out.sums[field] = (out.sums[field] ?? 0) + sum;
  for (const source of [a.histograms, b.histograms]) {
    for (const [field, bins] of Object.entries(source)) {
      const target = (out.histograms[field] ??= {});
      for (const [bin, n] of Object.entries(bins)) target[bin] = (target[bin] ?? 0) + n;
    }
  }
  return out;
}
