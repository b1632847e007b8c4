import fs from 'node:fs';
import path from 'node:path';
import { loadPipelineSpecFile } from '../pipelines/load';
import { shardQueue } from '../workflows/patterns/sharder';

/**
 * Shard task queues a worker serves, from `--shards queue:count,…` (e.g. `signup-enrich:3` →
 * signup-enrich-shard-0..2), or one shard alone as `queue#k` (a shard's own worker pool).
 */
export function parseShardQueues(value: string | undefined): string[] {
  if (!value) return [];
  return value.split(',').flatMap((part) => {
    const one = /^([A-Za-z0-9._-]+)#(\d+)$/.exec(part.trim());
    if (one) return [shardQueue(one[1], Number(one[2]))];
    const all = /^([A-Za-z0-9._-]+):(\d+)$/.exec(part.trim());
    if (!all || Number(all[2]) < 1) {
      throw new Error(
        `--shards "${part}": write queue:count (all shards, e.g. signup-enrich:3) or queue#k (one shard, e.g. signup-enrich#1).`,
      );
    }
    return Array.from({ length: Number(all[2]) }, (_, k) => shardQueue(all[1], k));
  });
}

/** `queue:count` of every shard stage in the specs of a folder: what the embedded stack serves. */
export function shardsOfSpecs(dir: string): string {
  const entries = new Set<string>();
  for (const file of fs.readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f))) {
    for (const stage of Object.values(loadPipelineSpecFile(path.join(dir, file)).stages)) {
      if (stage.kind === 'shard') entries.add(`${stage.queue}:${stage.shards}`);
    }
  }
  return [...entries].join(',');
}

/** Whether `taskQueue` is one of the shard queues `<queue>-shard-<k>` of `queue`. */
export function isShardQueueOf(taskQueue: string, queue: string): boolean {
  const prefix = shardQueue(queue, 0).slice(0, -1);
  return taskQueue.startsWith(prefix) && /^\d+$/.test(taskQueue.slice(prefix.length));
}
