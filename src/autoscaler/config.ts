/**
 * The autoscaler's configuration (deploy/autoscale.yaml): worker pools, each one task queue and
 * the worker processes that serve it, kept between `min` and `max` processes from the queue's
 * backlog. A pool names a worker role (its queue comes from the environment, as for every worker)
 * or the shard queues of a shard stage (one pool per shard: each shard is its own failure zone).
 * Every problem is reported with its place and the fix, all at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { didYouMean } from '../pipelines/did-you-mean';
import { isRecord, show, typeName } from '../pipelines/predicate';
import type { BatchConfig } from '../infra/config';
import { displayPath, repoRoot } from '../infra/paths';
import { planRole, WorkerRole, workerRoles } from '../workers/roles';
import type { TaskQueueType } from '../workers/work-stealer';
import { shardQueue } from '../workflows/patterns/sharder';
import type { LagSource } from './consumer-lag';

/** The numbers a pool is scaled by (see src/autoscaler/policy.ts). */
export interface PoolLimits {
  /** Fewest worker processes, 0 allowed: an idle queue then has none. */
  min: number;
  max: number;
  /** Tasks (waiting + running) one worker process is meant to carry: desired = ceil(tasks / this). */
  targetBacklogPerWorker: number;
  /** How long a pool must have had more workers than it needs before one is stopped. */
  coolDownSeconds: number;
  /** Also scale on a Kafka consumer group's lag (desired = the larger of the two); KEDA's `kafka` trigger. */
  kafkaLag?: LagSource;
}

export interface AutoscalePool extends PoolLimits {
  /** `stages`, or `signup-enrich#1` for shard 1 of a shard pool. */
  name: string;
  taskQueue: string;
  taskType: TaskQueueType;
  /** `--roles` of its worker processes (`none` for a shard pool). */
  roles: string;
  /** `--shards` of its worker processes (`queue#k`), for a shard pool. */
  shards?: string;
}

export interface AutoscaleConfig {
  /** How often the backlogs are read and decisions made. */
  intervalSeconds: number;
  pools: AutoscalePool[];
}

export const defaultAutoscaleFile = path.join(repoRoot, 'deploy', 'autoscale.yaml');

const topProperties = ['intervalSeconds', 'pools'];
const poolProperties = [
  'role',
  'shardQueue',
  'shards',
  'min',
  'max',
  'targetBacklogPerWorker',
  'coolDownSeconds',
  'kafkaLag',
];
const lagProperties = ['consumerGroup', 'topic', 'lagThreshold'];
/** Topics the event router subscribes to (pipelines/subscriptions.yaml): also valid Kafka names. */
const topicPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const namePattern = /^[A-Za-z0-9._-]+$/;

export class AutoscaleConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `${source}: ${problems.length === 1 ? '1 problem' : `${problems.length} problems`}:\n` +
        problems.map((p) => `  ${p}`).join('\n'),
    );
    this.name = 'AutoscaleConfigError';
  }
}

/** Reads and validates an autoscale file (YAML or JSON). */
export function loadAutoscaleConfig(file: string, config: BatchConfig): AutoscaleConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`Cannot read the autoscale configuration ${file}; pass an existing file with --config.`);
  }
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    throw new AutoscaleConfigError(file, [`invalid YAML: ${error instanceof Error ? error.message : error}`]);
  }
  return autoscaleConfig(data, config, displayPath(file));
}

/** Validates autoscale configuration data and resolves each pool's task queue from `config`. */
export function autoscaleConfig(
  data: unknown,
  config: BatchConfig,
  source = 'autoscale configuration',
): AutoscaleConfig {
  const problems: string[] = [];
  if (!isRecord(data))
    throw new AutoscaleConfigError(source, [`must be a mapping with "pools", not ${typeName(data)}`]);
  for (const key of Object.keys(data)) {
    if (!topProperties.includes(key))
      problems.push(`${key}: unknown property${suggest(key, topProperties)} Allowed: ${topProperties.join(', ')}`);
  }
  const intervalSeconds = data.intervalSeconds ?? 2;
  if (typeof intervalSeconds !== 'number' || !(intervalSeconds > 0))
    problems.push(`intervalSeconds: must be a number of seconds > 0, e.g. 2; got ${show(intervalSeconds)}`);

  const pools: AutoscalePool[] = [];
  if (!isRecord(data.pools) || Object.keys(data.pools).length === 0) {
    problems.push('pools: must map pool names to pools, e.g. stages: { role: stages, min: 0, max: 4, ... }');
  } else {
    for (const [name, entry] of Object.entries(data.pools)) pools.push(...poolsOf(name, entry, config, problems));
  }

  const owners = new Map<string, string>();
  for (const pool of pools) {
    const key = `${pool.taskType} ${pool.taskQueue}`;
    const other = owners.get(key);
    if (other)
      problems.push(`pools.${pool.name}: scales task queue "${pool.taskQueue}" as pools.${other} does; keep one`);
    else owners.set(key, pool.name);
  }
  if (problems.length > 0) throw new AutoscaleConfigError(source, problems);
  return { intervalSeconds: intervalSeconds as number, pools };
}

/** One pool entry: a role's pool, or one pool per shard queue. Problems are appended to `problems`. */
function poolsOf(name: string, entry: unknown, config: BatchConfig, problems: string[]): AutoscalePool[] {
  const at = `pools.${name}`;
  const before = problems.length;
  if (!namePattern.test(name)) problems.push(`${at}: pool names use letters, digits, ".", "_" and "-"`);
  if (!isRecord(entry)) {
    problems.push(`${at}: must be a mapping with role (or shardQueue and shards), min, max, targetBacklogPerWorker`);
    return [];
  }
  for (const key of Object.keys(entry)) {
    if (!poolProperties.includes(key))
      problems.push(
        `${at}.${key}: unknown property${suggest(key, poolProperties)} Allowed: ${poolProperties.join(', ')}`,
      );
  }
  const limits = poolLimits(at, entry, problems);
  const { role, shardQueue: shardBase, shards } = entry;
  if ((role === undefined) === (shardBase === undefined)) {
    problems.push(`${at}: give either role (one of ${workerRoles.join(', ')}) or shardQueue with shards, not both`);
  } else if (role !== undefined) {
    if (!(workerRoles as readonly unknown[]).includes(role))
      problems.push(
        `${at}.role: unknown role ${show(role)}${didYouMean(String(role), workerRoles)} Roles: ${workerRoles.join(', ')}`,
      );
    if (shards !== undefined) problems.push(`${at}.shards: only with shardQueue; a role's pool has one queue`);
  } else {
    if (typeof shardBase !== 'string' || !namePattern.test(shardBase))
      problems.push(`${at}.shardQueue: the queue of a shard stage, e.g. signup-enrich; got ${show(shardBase)}`);
    if (!Number.isInteger(shards) || (shards as number) < 1)
      problems.push(`${at}.shards: the stage's number of shards, a whole number ≥ 1; got ${show(shards)}`);
    // The sign-up flow's shard count comes from the environment: a pool with fewer would leave
    // some users' mail without workers, one with more would scale queues nobody uses.
    else if (shardBase === config.signup.queue && shards !== config.signup.shards)
      problems.push(
        `${at}.shards: the sign-up flow runs ${config.signup.shards} shards of "${shardBase}" (BATCH_SIGNUP_SHARDS); set shards: ${config.signup.shards}, or BATCH_SIGNUP_SHARDS=${shards}`,
      );
  }
  if (problems.length > before || !limits) return [];

  if (role !== undefined) {
    const workerRole = role as WorkerRole;
    return [
      {
        name,
        taskQueue: planRole(workerRole, config).taskQueue,
        taskType: workerRole === 'workflows' ? 'workflow' : 'activity',
        roles: workerRole,
        ...limits,
      },
    ];
  }
  return Array.from({ length: shards as number }, (_, k) => ({
    name: `${name}#${k}`,
    taskQueue: shardQueue(shardBase as string, k),
    taskType: 'activity' as const,
    roles: 'none',
    shards: `${shardBase}#${k}`,
    ...limits,
  }));
}

function poolLimits(at: string, entry: Record<string, unknown>, problems: string[]): PoolLimits | undefined {
  const before = problems.length;
  const { min = 0, max, targetBacklogPerWorker, coolDownSeconds = 60 } = entry;
  if (!Number.isInteger(min) || (min as number) < 0)
    problems.push(`${at}.min: fewest worker processes, a whole number ≥ 0; got ${show(min)}`);
  if (!Number.isInteger(max) || (max as number) < 1)
    problems.push(`${at}.max: most worker processes, a whole number ≥ 1; got ${show(max)}`);
  else if (Number.isInteger(min) && (max as number) < (min as number))
    problems.push(`${at}.max: must be ≥ min (${min}); got ${max}`);
  if (!Number.isInteger(targetBacklogPerWorker) || (targetBacklogPerWorker as number) < 1)
    problems.push(
      `${at}.targetBacklogPerWorker: tasks one worker process carries, a whole number ≥ 1 (e.g. its activity slots); got ${show(targetBacklogPerWorker)}`,
    );
  if (typeof coolDownSeconds !== 'number' || !(coolDownSeconds >= 0))
    problems.push(`${at}.coolDownSeconds: seconds ≥ 0 before a scale-down; got ${show(coolDownSeconds)}`);
  const kafkaLag = entry.kafkaLag === undefined ? undefined : lagSource(`${at}.kafkaLag`, entry.kafkaLag, problems);
  if (problems.length > before) return undefined;
  return {
    min: min as number,
    max: max as number,
    targetBacklogPerWorker: targetBacklogPerWorker as number,
    coolDownSeconds: coolDownSeconds as number,
    ...(kafkaLag ? { kafkaLag } : {}),
  };
}

/** `kafkaLag: { consumerGroup, topic?, lagThreshold }`: the consumer group whose lag also scales the pool. */
function lagSource(at: string, value: unknown, problems: string[]): LagSource | undefined {
  const example = 'e.g. { consumerGroup: batch-router, topic: uploads, lagThreshold: 50 }';
  if (!isRecord(value)) {
    problems.push(`${at}: must be a mapping with consumerGroup, topic (optional) and lagThreshold; ${example}`);
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(value)) {
    if (!lagProperties.includes(key))
      problems.push(
        `${at}.${key}: unknown property${suggest(key, lagProperties)} Allowed: ${lagProperties.join(', ')}`,
      );
  }
  const { consumerGroup, topic, lagThreshold } = value;
  if (typeof consumerGroup !== 'string' || !namePattern.test(consumerGroup))
    problems.push(
      `${at}.consumerGroup: the Kafka consumer group whose lag counts (letters, digits, ".", "_", "-"), e.g. batch-router (BATCH_KAFKA_GROUP); got ${show(consumerGroup)}`,
    );
  if (topic !== undefined && (typeof topic !== 'string' || !topicPattern.test(topic)))
    problems.push(
      `${at}.topic: a topic name (1–64 letters, digits, ".", "_", "-", starting with a letter or digit), or omit it for every topic of the group; got ${show(topic)}`,
    );
  if (!Number.isInteger(lagThreshold) || (lagThreshold as number) < 1)
    problems.push(
      `${at}.lagThreshold: unconsumed events one worker process carries, a whole number ≥ 1; got ${show(lagThreshold)}`,
    );
  if (problems.length > before) return undefined;
  return {
    consumerGroup: consumerGroup as string,
    ...(topic === undefined ? {} : { topic: topic as string }),
    lagThreshold: lagThreshold as number,
  };
}

/** A close spelling, or the property the name is the start or end of (`coolDown` → `coolDownSeconds`, `group` → `consumerGroup`). */
function suggest(key: string, allowed: readonly string[]): string {
  const longer = allowed.find((name) => name.startsWith(key) || name.toLowerCase().endsWith(key.toLowerCase()));
  return longer ? `; did you mean "${longer}"?` : didYouMean(key, allowed);
}
