/**
 * Splitter (seeds, ch. 11): divide one queue into several "without dropping any of them" — e.g.
 * shipping notifications by e-mail or by text message. The first route whose predicate matches
 * wins; an item no route matches takes the default branch, so every item goes exactly one way.
 */
import { evaluate } from '../../pipelines/predicate';
import type { PipelineItem, SplitStage } from '../../pipelines/spec';

export function routeOf(stage: SplitStage, item: PipelineItem): string {
  return stage.routes.find((route) => evaluate(route.when, item))?.to ?? stage.default;
}
