import { shardQueue } from '../workflows/patterns/sharder';

/** `--steal queue:shards:own`: this worker owns shard `own` of `shards` and may steal from the others. */
export interface StealOption {
  queue: string;
  shards: number;
  own: number;
}

/**
 * Parses `--steal queue:shards:own`, e.g. `signup-enrich:3:0` (owns signup-enrich-shard-0, may
 * steal from shards 1 and 2). Absent or empty → undefined (no stealing).
 */
export function parseSteal(value: string | undefined): StealOption | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const match = /^([A-Za-z0-9._-]+):(\d+):(\d+)$/.exec(value.trim());
  const usage =
    `--steal "${value}": write queue:shards:own, e.g. signup-enrich:3:0 ` +
    `(this worker owns shard 0 of signup-enrich's 3 shards and steals from the others when idle)`;
  if (!match) throw new Error(`${usage}.`);
  const shards = Number(match[2]);
  const own = Number(match[3]);
  if (shards < 2)
    throw new Error(`${usage}: shards must be at least 2 (with one shard there is nobody to steal from).`);
  if (own >= shards) throw new Error(`${usage}: own must be a shard number from 0 to ${shards - 1}.`);
  return { queue: match[1], shards, own };
}

/** The task queues of a `--steal` option: the worker's own shard queue and its siblings (the other shards). */
export function stealPlan(option: StealOption): { own: string; siblings: string[] } {
  const siblings = Array.from({ length: option.shards }, (_, k) => k)
    .filter((k) => k !== option.own)
    .map((k) => shardQueue(option.queue, k));
  return { own: shardQueue(option.queue, option.own), siblings };
}
