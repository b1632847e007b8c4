/**
 * A pipeline is a directed acyclic graph of stages (the seeds' event-driven batch processing,
 * chapter 11): activity stages do work on a task queue; pattern stages (filter, split, copy,
 * shard, join, reduce) route, duplicate, partition, wait for and aggregate items. The same
 * shape is written in TypeScript (src/pipelines/builder.ts) or as JSON/YAML data and run by
 * one generic interpreter workflow. Plain data only: workflows import these types.
 */

/** A work item flowing through a pipeline. `data` is small JSON; media travel by path/URI. */
export interface PipelineItem {
  /** Stable ID, unique within a run; names workflow IDs and dead letters. */
  id: string;
  /** Where the item came from (the merger's origin tag), e.g. a source name. */
  origin?: string;
  data: Record<string, unknown>;
}

/** A declarative predicate, evaluated in workflow code (no activity, no history events). */
export type Predicate =
  | { field: string; op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'; value: string | number | boolean | null }
  | { field: string; op: 'in'; value: (string | number | boolean | null)[] }
  /** The field is an array holding `value`, e.g. `{ field: tags, op: has, value: landscape }`. */
  | { field: string; op: 'has'; value: string | number | boolean | null }
  | { field: string; op: 'exists' }
  | { field: string; op: 'matches'; value: string }
  | { all: Predicate[] }
  | { any: Predicate[] }
  | { not: Predicate };

/** Temporal retry policy of a stage; durations as strings like '1 second', '2 hours'. */
export interface RetrySpec {
  initialInterval?: string;
  backoffCoefficient?: number;
  maximumInterval?: string;
  maximumAttempts?: number;
  nonRetryableErrorTypes?: string[];
}

interface StageBase {
  /** The next stage; absent means the item's path ends here (it is done). */
  next?: string;
}

/** Do work: a registered stage activity processes items (in batches of `batchSize`). */
export interface ActivityStage extends StageBase {
  kind: 'activity';
  activity: string;
  /** Task queue of the workers that run it; default: the pipeline's activity queue. */
  taskQueue?: string;
  /**
   * Run each call as a local activity on the workflow worker (no task queue round trip: for
   * cheap per-item work, e.g. batchSize 1). No taskQueue, shards, fairness or autoscaling then.
   */
  local?: boolean;
  retry?: RetrySpec;
  /** Items per activity call (cheap work: fewer history events per item). Default 1. */
  batchSize?: number;
  /** startToClose of one call, e.g. '5 minutes'. */
  timeout?: string;
  /** Only with activity `publish-to-topic`: the Kafka topic each item is published to (pipelines chain through it). */
  sink?: SinkSpec;
}

/**
 * Where a `publish-to-topic` stage publishes: each item that reaches it becomes the event
 * `{ id: <pipeline>.<run>.<item id>, data: <item data> }` on `topic`, keyed by the item ID, so a
 * pipeline subscribed to the topic (pipelines/subscriptions.yaml) runs once per item.
 */
export interface SinkSpec {
  /** Topic name: 1–64 letters, digits, '.', '_', '-', starting with a letter or digit; created on first use when missing. */
  topic: string;
}

/** Keep items that match; dropped items are counted, never lost silently. */
export interface FilterStage extends StageBase {
  kind: 'filter';
  where: Predicate;
}

/** Route each item to exactly one branch: the first route whose predicate matches, else `default`. */
export interface SplitStage {
  kind: 'split';
  routes: { when: Predicate; to: string }[];
  default: string;
}

/** Duplicate each item into every branch; `race`: the first branch to succeed wins, the rest are cancelled. */
export interface CopyStage {
  kind: 'copy';
  to: string[];
  mode?: 'all' | 'race';
}

/** Run an activity on the task queue `<queue>-shard-<k>`, k = stable hash of `key` mod `shards`. */
export interface ShardStage extends StageBase {
  kind: 'shard';
  key: string;
  shards: number;
  activity: string;
  queue: string;
  retry?: RetrySpec;
  batchSize?: number;
  timeout?: string;
}

/** Barrier: no item passes until every item of the run has reached this stage or ended. */
export interface JoinStage extends StageBase {
  kind: 'join';
}

/** Aggregate items: count, sums of numeric fields, histograms of field values. */
export interface ReduceStage {
  kind: 'reduce';
  sum?: string[];
  histogram?: string[];
  /** Once the whole run is done, a report activity turns the merged aggregate into files. */
  report?: ReduceReport;
}

/** The report step of a reduce stage: a registered report activity (see activity-names.ts). */
export interface ReduceReport {
  activity: string;
}

export type StageSpec = ActivityStage | FilterStage | SplitStage | CopyStage | ShardStage | JoinStage | ReduceStage;

export interface PipelineSpec {
  name: string;
  /** One line for people: what the pipeline does (the API lists it: GET /pipelines). */
  description?: string;
  /** The first stage every item enters. */
  start: string;
  stages: Record<string, StageSpec>;
  /** Default task queue of activity stages. */
  activityQueue?: string;
  /** Activity calls in flight at once per partition and work queue (stage, shard, source). */
  concurrency?: number;
  /** Items per partition child workflow (bounds every history). */
  partitionSize?: number;
  /** Fail the run when more than this percentage of items are dead-lettered (default 100: never). */
  toleratedFailurePercent?: number;
}

/** Aggregates of a reduce stage; mergeable, so partitions and continue-as-new combine them. */
export interface ReduceResult {
  count: number;
  sums: Record<string, number>;
  histograms: Record<string, Record<string, number>>;
}
