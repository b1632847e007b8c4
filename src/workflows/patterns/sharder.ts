/**
 * Sharder (seeds, ch. 11): "divide up a single queue into an evenly divided collection of work
 * items based upon some sort of sharding function" — for reliability (a failure affects one
 * shard only) and to spread load. A stable hash of the item's key picks shard k, whose work runs
 * on the task queue `<queue>-shard-<k>`, served by that shard's own workers. The engine batches
 * and dispatches each shard separately, so one shard's outage delays only its own items.
 */
import { stableHash } from '../../pipelines/hash';
import { itemText } from '../../pipelines/item-text';
import { fieldValue } from '../../pipelines/predicate';
import type { PipelineItem, ShardStage } from '../../pipelines/spec';

export function shardOf(stage: Pick<ShardStage, 'key' | 'shards'>, item: PipelineItem): number {
  return stableHash(itemText(fieldValue(item, stage.key) ?? '')) % stage.shards;
}

export function shardQueue(queue: string, shard: number): string {
  return `${queue}-shard-${shard}`;
}
