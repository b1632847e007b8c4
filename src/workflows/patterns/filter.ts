/**
 * Filter (seeds, ch. 11): "reduce a stream of work items to a smaller stream of work items by
 * filtering out work items that don't meet particular criteria" — e.g. only the new users who
 * opted in to e-mail. Evaluated in workflow code: no activity round-trip, no history events.
 * The engine counts every dropped item, so nothing is lost silently.
 */
import { evaluate } from '../../pipelines/predicate';
import type { FilterStage, PipelineItem } from '../../pipelines/spec';

export function passesFilter(stage: FilterStage, item: PipelineItem): boolean {
  return evaluate(stage.where, item);
}
