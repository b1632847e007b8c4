/**
 * Pipelines written in TypeScript: the same data as a JSON/YAML spec, but stage names are checked
 * at compile time (a typo in `next`, `to` or `default` does not compile) and activities are
 * the registered ones. {@link definePipeline} validates at run time too. Pure (workflow-safe).
 *
 * @example
 * const spec = definePipeline({
 *   name: 'notify',
 *   start: 'opted-in',
 *   stages: {
 *     'opted-in': filter(field('optIn').eq(true), 'by-channel'),
 *     'by-channel': split([route(field('channel').eq('email'), 'email')], 'other'),
 *     email: activity('annotate'),
 *     other: activity('noop'),
 *   },
 * });
 */
import type { StageActivityName } from './activity-names';
import type { ActivityStage, CopyStage, PipelineSpec, Predicate, ReduceStage, ShardStage } from './spec';
import { validatePipelineSpec } from './validate';

export interface TypedActivityStage<S extends string> extends Omit<ActivityStage, 'activity' | 'next'> {
  activity: StageActivityName;
  next?: S;
}

export interface TypedFilterStage<S extends string> {
  kind: 'filter';
  where: Predicate;
  next?: S;
}

export interface TypedRoute<S extends string> {
  when: Predicate;
  to: S;
}

export interface TypedSplitStage<S extends string> {
  kind: 'split';
  routes: TypedRoute<S>[];
  default: S;
}

export interface TypedCopyStage<S extends string> {
  kind: 'copy';
  to: S[];
  mode?: CopyStage['mode'];
}

export interface TypedShardStage<S extends string> extends Omit<ShardStage, 'activity' | 'next'> {
  activity: StageActivityName;
  next?: S;
}

export interface TypedJoinStage<S extends string> {
  kind: 'join';
  next?: S;
}

/** A stage whose references are stage names of the pipeline (`S`). */
export type TypedStage<S extends string> =
  | TypedActivityStage<S>
  | TypedFilterStage<S>
  | TypedSplitStage<S>
  | TypedCopyStage<S>
  | TypedShardStage<S>
  | TypedJoinStage<S>
  | ReduceStage;

/** A {@link PipelineSpec} whose stage names `S` are the keys of `stages`: every reference must be one of them. */
export interface TypedPipelineSpec<S extends string> extends Omit<PipelineSpec, 'start' | 'stages'> {
  start: NoInfer<S>;
  stages: { [K in S]: TypedStage<NoInfer<S>> };
}

/**
 * A pipeline spec written in TypeScript: stage names are inferred from the keys of `stages`, so
 * `start`, `next`, `to` and `default` must name one of them. Validated like a JSON/YAML spec
 * (throws a PipelineSpecError listing every problem, e.g. a cycle).
 */
export function definePipeline<S extends string>(spec: TypedPipelineSpec<S>): PipelineSpec {
  return validatePipelineSpec(spec);
}

/** `object` without its undefined properties, so built specs equal their JSON twins. */
function defined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

export type ActivityOptions<S extends string> = Omit<TypedActivityStage<S>, 'kind' | 'activity'>;

/** Run a stage activity: `activity('annotate', { next: 'report', batchSize: 50, timeout: '1 minute' })`. */
export function activity<S extends string = never>(
  name: StageActivityName,
  options: ActivityOptions<S> = {},
): TypedActivityStage<NoInfer<S>> {
  return defined({ kind: 'activity', activity: name, ...options });
}

/** Keep the items matching `where`, then go to `next` (absent: their path ends). */
export function filter<S extends string = never>(where: Predicate, next?: S): TypedFilterStage<NoInfer<S>> {
  return defined({ kind: 'filter', where, next });
}

/** One route of a split: items matching `when` go to `to`. */
export function route<S extends string>(when: Predicate, to: S): TypedRoute<NoInfer<S>> {
  return { when, to };
}

/** Send each item to the first route whose predicate matches, else to `defaultTo`. */
export function split<S extends string>(routes: TypedRoute<S>[], defaultTo: S): TypedSplitStage<NoInfer<S>> {
  return { kind: 'split', routes, default: defaultTo };
}

/** Copy each item into every branch (`race`: the first branch to succeed wins, the others are cancelled). */
export function copy<S extends string>(to: S[], mode?: CopyStage['mode']): TypedCopyStage<NoInfer<S>> {
  return defined({ kind: 'copy', to, mode });
}

export type ShardOptions<S extends string> = Omit<TypedShardStage<S>, 'kind'>;

/** Run an activity on task queue `<queue>-shard-<k>`, k = stable hash of the `key` field mod `shards`. */
export function shard<S extends string = never>(options: ShardOptions<S>): TypedShardStage<NoInfer<S>> {
  return defined({ kind: 'shard', ...options });
}

/** Wait until every item of the run has reached this stage or ended, then go on to `next`. */
export function join<S extends string = never>(next?: S): TypedJoinStage<NoInfer<S>> {
  return defined({ kind: 'join', next });
}

/** Aggregate the items: count, sums of numeric fields, histograms of field values. Ends the path. */
export function reduce(options: Omit<ReduceStage, 'kind'> = {}): ReduceStage {
  return defined({ kind: 'reduce', ...options });
}

type Scalar = string | number | boolean | null;

/** Predicates about one field (a dotted path into the item data, or `$id` / `$origin`). */
export interface FieldPredicates {
  eq(value: Scalar): Predicate;
  ne(value: Scalar): Predicate;
  gt(value: number | string): Predicate;
  gte(value: number | string): Predicate;
  lt(value: number | string): Predicate;
  lte(value: number | string): Predicate;
  in(values: Scalar[]): Predicate;
  /** The field is an array holding `value`, e.g. `field('tags').has('landscape')`. */
  has(value: Scalar): Predicate;
  exists(): Predicate;
  /** A regular expression source, e.g. `'@example\\.com$'`. */
  matches(pattern: string): Predicate;
}

/** `field('user.optIn').eq(true)`, `field('$origin').in(['crm', 'web'])`, `field('email').exists()`... */
export function field(name: string): FieldPredicates {
  return {
    eq: (value) => ({ field: name, op: 'eq', value }),
    ne: (value) => ({ field: name, op: 'ne', value }),
    gt: (value) => ({ field: name, op: 'gt', value }),
    gte: (value) => ({ field: name, op: 'gte', value }),
    lt: (value) => ({ field: name, op: 'lt', value }),
    lte: (value) => ({ field: name, op: 'lte', value }),
    in: (values) => ({ field: name, op: 'in', value: values }),
    has: (value) => ({ field: name, op: 'has', value }),
    exists: () => ({ field: name, op: 'exists' }),
    matches: (pattern) => ({ field: name, op: 'matches', value: pattern }),
  };
}

/** Every predicate holds. */
export function all(...predicates: Predicate[]): Predicate {
  return { all: predicates };
}

/** At least one predicate holds. */
export function any(...predicates: Predicate[]): Predicate {
  return { any: predicates };
}

/** The predicate does not hold. */
export function not(predicate: Predicate): Predicate {
  return { not: predicate };
}
