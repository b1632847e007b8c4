/**
 * Reduce (seeds, ch. 12, coordinated batch processing): fold many results into one — count,
 * sum and histogram. Aggregates are mergeable (partitions and continue-as-new combine them by
 * `mergeReduce`), so they are computed incrementally and never need every item at once.
 */
import { addCount, itemText } from '../../pipelines/item-text';
import { fieldValue, hasOwn } from '../../pipelines/predicate';
import type { PipelineItem, ReduceResult, ReduceStage } from '../../pipelines/spec';

export function emptyReduce(): ReduceResult {
  return { count: 0, sums: {}, histograms: {} };
}

/**
 * Adds one item: numeric fields to their sums; field values (or each value of an array) to
 * histograms. Every value is read before anything is added, so a throw leaves `acc` unchanged.
 */
export function addToReduce(stage: ReduceStage, acc: ReduceResult, item: PipelineItem): ReduceResult {
  const sums = (stage.sum ?? []).map((field) => {
    const value = fieldValue(item, field);
    return [field, typeof value === 'number' && Number.isFinite(value) ? value : 0] as const;
  });
  const bins = (stage.histogram ?? []).map((field) => {
    const raw = fieldValue(item, field);
    const values = Array.isArray(raw) ? raw : [raw];
    return [field, values.map((value) => (value === undefined ? '(missing)' : itemText(value)))] as const;
  });
  acc.count += 1;
  for (const [field, value] of sums) addCount(acc.sums, field, value);
  for (const [field, values] of bins) {
    const target = histogramOf(acc.histograms, field);
    for (const bin of values) addCount(target, bin, 1);
  }
  return acc;
}

export function mergeReduce(a: ReduceResult, b: ReduceResult): ReduceResult {
  const out: ReduceResult = { count: a.count + b.count, sums: {}, histograms: {} };
  for (const sums of [a.sums, b.sums]) for (const [field, sum] of Object.entries(sums)) addCount(out.sums, field, sum);
  for (const source of [a.histograms, b.histograms]) {
    for (const [field, bins] of Object.entries(source)) {
      const target = histogramOf(out.histograms, field);
      for (const [bin, n] of Object.entries(bins)) addCount(target, bin, n);
    }
  }
  return out;
}

/** The bins of `field`, created as an own property (a field may be named `__proto__`). */
function histogramOf(histograms: ReduceResult['histograms'], field: string): Record<string, number> {
  if (!hasOwn(histograms, field))
    Object.defineProperty(histograms, field, { value: {}, enumerable: true, writable: true, configurable: true });
  return histograms[field];
}
