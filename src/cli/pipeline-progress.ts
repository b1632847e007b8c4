import type { PipelineProgress } from '../workflows/pipeline';
import { progressLine } from './progress';

/** A pipeline run's progress line, e.g. `[####----] 4/7 done · 3 in flight · 1 dead-lettered · partitions 0/1`. */
export function formatPipelineProgress(p: PipelineProgress): string {
  const details = [`${p.running} in flight`];
  if (p.dropped) details.push(`${p.dropped} dropped`);
  if (p.deadLettered) details.push(`${p.deadLettered} dead-lettered`);
  details.push(`partitions ${p.partitions.done}/${p.partitions.total}`);
  return progressLine(p.done, p.total, details, 'done');
}
