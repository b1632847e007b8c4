/**
 * Merger (seeds, ch. 11): "take two different work queues and turn them into a single work
 * queue" — e.g. commits of many repositories into one build pipeline. Every item keeps its
 * origin; an item submitted twice (same id) is processed once; sources are interleaved round
 * robin so one busy source cannot starve the others.
 */
import type { PipelineItem } from '../../pipelines/spec';

export interface MergeSource {
  origin: string;
  items: PipelineItem[];
}

export interface MergeResult {
  items: PipelineItem[];
  /** Items dropped because an item with the same id came first. */
  duplicates: number;
}

export function mergeSources(sources: MergeSource[]): MergeResult {
  const seen = new Set<string>();
  const items: PipelineItem[] = [];
  let duplicates = 0;
  const longest = Math.max(0, ...sources.map((s) => s.items.length));
  for (let i = 0; i < longest; i++) {
    for (const source of sources) {
      const item = source.items[i];
      if (!item) continue;
      if (seen.has(item.id)) {
        duplicates += 1;
        continue;
      }
      seen.add(item.id);
      items.push({ ...item, origin: item.origin ?? source.origin });
    }
  }
  return { items, duplicates };
}
