/**
 * The generic pipeline interpreter: any pipeline spec (TypeScript or JSON/YAML data, see
 * src/pipelines/spec.ts) runs here without redeploying workflow code.
 *
 *   pipelineRun         one per run: validates the spec, cuts the items into partitions and runs
 *                       them as child workflows in a sliding window, merges their outcomes
 *                       (counts, reductions, dead letters), continues-as-new when its history
 *                       grows, runs the reports of reduce stages on the merged reductions at
 *                       the end, and fails only past the tolerated failure percentage.
 *   pipelinePartition   one per partition (and per copy branch): moves its items through the
 *                       DAG with the PartitionEngine; its history stays small whatever the run's size.
 */
import {
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  executeChild,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type * as readerActivities from '../activities/pipeline/item-reader';
import type { ItemPage, ItemPlan, ItemReaderSpec, RefusedItem } from '../pipelines/item-reader-types';
import type { ReportFiles } from '../activities/pipeline/report-types';
import type * as resultActivities from '../activities/pipeline/results';
import { partName, type ResultsSummary } from '../activities/pipeline/results-types';
import { BatchShards, BatchStage, runSearchAttributes } from '../core/search-attributes';
import type { CopyStage, PipelineItem, PipelineSpec } from '../pipelines/spec';
import { PipelineSpecError, validatePipelineSpec } from '../pipelines/validate';
import { runCopies } from './patterns/copier';
import { coordinateJoins, partitionBarrier } from './patterns/join';
import { countPipelineItems } from './metrics';
import { EngineOutcome, emptyOutcome, mergeOutcome, PartitionEngine } from './pipeline-engine';
import { reportsOf, runReports } from './reduce-reports';
import { bookkeepingQueue, earlierResultsChunkBytes, resultsChunkBytes, writeResultsPart } from './item-results';

/**
 * Items inline (small runs), generated in the workflow (benchmarks: no payload per item), by
 * reference: a JSON Lines manifest that each partition reads its page of (large runs: the run's
 * input stays small whatever its size), or from the item reader (src/activities/pipeline/
 * item-reader.ts): an object listing, a JSON Lines or a CSV object in the store, which the run
 * plans into pages (`readerPages`) and each partition reads its page of (`readerPage`).
 */
export type ItemSource =
  | { items: PipelineItem[] }
  | { generate: { count: number; from?: number; data?: Record<string, unknown> } }
  /** `uri` in the object store; runs started before it name a file under `<dataDir>/inputs` by `path`. */
  | { manifest: { uri?: string; path?: string; count: number; from?: number } }
  | { reader: ItemReaderSpec }
  | { readerPages: { reader: ItemReaderSpec; plan: ItemPlan } }
  | { readerPage: { reader: ItemReaderSpec; page: ItemPage; columns?: string[] } };

export interface PipelineQueues {
  /** Task queue of the pipeline workflows (run, partitions, copy branches). */
  workflow: string;
  /** Default task queue of activity stages. */
  activity: string;
}

export interface PipelineRunInput {
  spec: PipelineSpec;
  run: string;
  source: ItemSource;
  queues: PipelineQueues;
  /** Partition child workflows running at once. */
  partitionWindow?: number;
  /** The stage items enter at (default: the spec's start); redrives enter where items failed. */
  entry?: string;
  /** Carried across continue-as-new. */
  state?: { nextPartition: number; outcome: EngineOutcome };
}

export interface PipelineProgress {
  total: number;
  done: number;
  completed: number;
  dropped: number;
  deadLettered: number;
  running: number;
  partitions: { total: number; done: number; running: number; active?: number[] };
  stages: EngineOutcome['stages'];
}

export interface PipelineRunResult extends EngineOutcome {
  partitions: number;
  /** The spec and run name, so dead letters can be redriven from the result alone. */
  spec: PipelineSpec;
  run: string;
  /** Files written by the report steps of reduce stages, by stage; absent when the spec has none. */
  reports?: Record<string, ReportFiles>;
  /**
   * Every item's line is in `results.dir` (part-NNNNN.jsonl); here its counts and the failures
   * grouped by reason with a few examples. Absent for runs started before results parts.
   */
  results?: ResultsSummary;
}

export interface PartitionInput {
  spec: PipelineSpec;
  run: string;
  entry: string;
  source: ItemSource;
  queues: PipelineQueues;
  /** For partitions of a run with joins: whom to tell when a join is reached (run-wide barrier). */
  barrier?: { runWorkflowId: string; partition: number };
  /** Name of this partition's results part, e.g. `part-00003` (absent: derived from the workflow ID). */
  part?: string;
}

export const pipelineProgressQuery = defineQuery<PipelineProgress>('progress');

/** Dead letters kept inline in results; more are counted (the dead-letter store keeps them all). */
const inlineDeadLetterLimit = 1000;
/** With results parts (which hold every dead letter with its input), results keep only a few inline. */
const inlineDeadLetterLimitWithParts = 20;
const resultsPatch = 'pipeline-results-parts';
/**
 * One marker for every change a partition's code went through: results parts, the engine's
 * dispatch rotation and callback walks, the shard search attribute, unchanged items answered
 * without their data, results chunks of 128 KiB. Each patch records a marker and the SDK upserts
 * the TemporalChangeVersion search attribute with it (a visibility write on the server), so a
 * partition checked five of them at a cost of ten events; partitions recorded before this marker
 * still check each one.
 */
const partitionPatch = 'pipeline-partition-2';

/** The `progress` answer for an outcome so far (of a run, a partition, or a finished run). */
export function progressOf(
  o: EngineOutcome,
  running: number,
  partitions: PipelineProgress['partitions'],
  total = o.total,
): PipelineProgress {
  const done = o.completed + o.dropped + o.deadLettered;
  return {
    total,
    done,
    completed: o.completed,
    dropped: o.dropped,
    deadLettered: o.deadLettered,
    running,
    partitions,
    stages: o.stages,
  };
}

/** Items of a source; 0 for an item reader not planned yet (the run plans it first). */
export function sourceSize(source: ItemSource): number {
  if ('manifest' in source) return source.manifest.count;
  if ('reader' in source) return 0;
  if ('readerPages' in source) return source.readerPages.plan.total;
  if ('readerPage' in source) return source.readerPage.page.count;
  return 'items' in source ? source.items.length : source.generate.count;
}

const pageRetry: RetryPolicy = {
  initialInterval: '1 second',
  maximumAttempts: 10,
  nonRetryableErrorTypes: ['InvalidInput'],
};

/** A partition's items, and (item reader) the lines or rows that are not items, to dead-letter. */
async function materialize(
  source: ItemSource,
  taskQueue: string,
): Promise<{ items: PipelineItem[]; refused?: RefusedItem[] }> {
  if ('manifest' in source) {
    const { readItemsPage } = proxyActivities<typeof resultActivities>({
      summary: `items ${(source.manifest.from ?? 0) + 1}–${(source.manifest.from ?? 0) + source.manifest.count}`,
      taskQueue,
      startToCloseTimeout: '2 minutes',
      retry: pageRetry,
    });
    const { uri, path, from = 0, count } = source.manifest;
    return { items: await readItemsPage({ ...(uri === undefined ? { path } : { uri }), from, count }) };
  }
  if ('readerPage' in source) {
    const { reader, page } = source.readerPage;
    const { readItems } = proxyActivities<typeof readerActivities>({
      summary: `items of ${reader.uri}${page.line ? ` from line ${page.line}` : ''} (${page.count})`,
      taskQueue,
      startToCloseTimeout: '5 minutes',
      heartbeatTimeout: '1 minute',
      retry: pageRetry,
    });
    return readItems({ reader, page, columns: source.readerPage.columns });
  }
  if ('items' in source) return { items: source.items };
  if (!('generate' in source)) {
    throw ApplicationFailure.nonRetryable('A partition got an item reader that was not planned.', 'InvalidInput');
  }
  const { count, from = 0, data = {} } = source.generate;
  return {
    items: Array.from({ length: count }, (_, i) => ({ id: `item-${from + i}`, data: { ...data, n: from + i } })),
  };
}

/** The run's item reader planned into pages of `pageSize` items (one per partition), by an activity. */
async function planReader(reader: ItemReaderSpec, pageSize: number, taskQueue: string): Promise<ItemSource> {
  const { planItems } = proxyActivities<typeof readerActivities>({
    summary: `plan pages of ${pageSize} items from ${reader.uri}`,
    taskQueue,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '1 minute',
    retry: { ...pageRetry, backoffCoefficient: 2, maximumInterval: '30 seconds' },
  });
  return { readerPages: { reader, plan: await planItems({ reader, pageSize }) } };
}

/** Partition `k`'s items: its page of a planned reader, else its slice of the source. */
function partitionSource(source: ItemSource, k: number, partitionSize: number): ItemSource {
  if ('readerPages' in source) {
    const { reader, plan } = source.readerPages;
    return { readerPage: { reader, page: plan.pages[k], ...(plan.columns ? { columns: plan.columns } : {}) } };
  }
  return slice(source, k * partitionSize, partitionSize);
}

function slice(source: ItemSource, from: number, count: number): ItemSource {
  if ('manifest' in source) {
    const m = source.manifest;
    return { manifest: { ...m, from: (m.from ?? 0) + from, count: Math.min(count, m.count - from) } };
  }
  if ('items' in source) return { items: source.items.slice(from, from + count) };
  if (!('generate' in source)) return source;
  const base = source.generate.from ?? 0;
  return { generate: { ...source.generate, from: base + from, count: Math.min(count, source.generate.count - from) } };
}

function checkedSpec(spec: PipelineSpec): PipelineSpec {
  try {
    return validatePipelineSpec(spec);
  } catch (error: unknown) {
    if (error instanceof PipelineSpecError) throw ApplicationFailure.nonRetryable(error.message, 'InvalidPipelineSpec');
    throw error;
  }
}

export async function pipelinePartition(input: PartitionInput): Promise<EngineOutcome> {
  const spec = checkedSpec(input.spec);
  const activityQueue = bookkeepingQueue(spec, spec.activityQueue ?? input.queues.activity);
  // Added after runs were recorded (test/histories): patched() keeps those replaying.
  const allPatches = patched(partitionPatch);
  const withResults = allPatches || patched(resultsPatch);
  const { items, refused } = await materialize(input.source, activityQueue);
  const runBarrier = input.barrier && partitionBarrier(input.barrier.runWorkflowId, input.barrier.partition);
  const shards: string[] = [];
  const engine = new PartitionEngine(spec, {
    runBarrier,
    onShardQueue: (taskQueue) => {
      shards.push(taskQueue);
      // Added after runs were recorded (test/histories): patched() keeps those replaying.
      if (allPatches || patched('batch-shards-search-attribute'))
        upsertSearchAttributes([{ key: BatchShards, value: [...shards] }]);
    },
    pipeline: spec.name,
    run: input.run,
    defaultActivityQueue: spec.activityQueue ?? input.queues.activity,
    concurrency: spec.concurrency ?? 8,
    recordResults: withResults,
    allPatches,
    runCopies: (stage, name, batch, batchItems) => copyToBranches(input, stage, name, batch, batchItems),
  });
  setHandler(pipelineProgressQuery, () => {
    const running = Object.values(engine.inFlight()).reduce((n, s) => n + s.queued + s.running, 0);
    return progressOf(engine.outcome, running, { total: 1, done: 0, running: 1 });
  });
  const outcome = await engine.run(input.entry, items, refused);
  if (withResults && engine.results) {
    const part = input.part ?? `part-00000.${workflowInfo().workflowId.replace(/[^A-Za-z0-9_-]+/g, '_')}`;
    try {
      const chunkBytes = allPatches ? resultsChunkBytes : earlierResultsChunkBytes;
      await writeResultsPart(spec.name, input.run, part, engine.results.lines, activityQueue, chunkBytes);
    } catch (error) {
      // The items' outcomes stand; only their lines are missing. Said in the log, never a failed run.
      log.error('results part not written', { part, error: error instanceof Error ? error.message : String(error) });
    }
  }
  outcome.deadLetters = outcome.deadLetters.slice(
    0,
    withResults ? inlineDeadLetterLimitWithParts : inlineDeadLetterLimit,
  );
  return outcome;
}

/** A copy stage's batch, sent into its branches: child workflows running the rest of the DAG. */
function copyToBranches(input: PartitionInput, stage: CopyStage, name: string, batch: number, items: PipelineItem[]) {
  const parent = workflowInfo().workflowId;
  return runCopies(stage, (to) =>
    executeChild(pipelinePartition, {
      workflowId: `${parent}/${name}-${batch}/${to}`,
      taskQueue: input.queues.workflow,
      staticSummary: `copy ${name} → ${to}: batch ${batch}, ${items.length} items (${stage.mode ?? 'all'})`,
      // A branch's joins are its own: only top-level partitions take part in the run-wide barrier.
      args: [
        {
          ...input,
          entry: to,
          source: { items },
          barrier: undefined,
          // The branch's lines go to a part beside its partition's: part-00003.fan-out-0.with-tag.
          part:
            input.part &&
            `${input.part}.${`${name}-${batch}`.replace(/[^A-Za-z0-9_-]+/g, '_')}.${to.replace(/[^A-Za-z0-9_-]+/g, '_')}`,
        },
      ],
    }),
  );
}

export async function pipelineRun(input: PipelineRunInput): Promise<PipelineRunResult> {
  const spec = checkedSpec(input.spec);
  const entry = input.entry ?? spec.start;
  if (!(entry in spec.stages)) {
    throw ApplicationFailure.nonRetryable(
      `Entry stage "${entry}" is not a stage of pipeline "${spec.name}".`,
      'InvalidPipelineSpec',
    );
  }
  const partitionSize = spec.partitionSize ?? 500;
  if ('reader' in input.source) {
    // Only runs on an item reader do this, so the histories of other runs replay unchanged.
    const queue = bookkeepingQueue(spec, spec.activityQueue ?? input.queues.activity);
    input = { ...input, source: await planReader(input.source.reader, partitionSize, queue) };
  }
  const total = sourceSize(input.source);
  const joins = Object.entries(spec.stages).flatMap(([name, stage]) => (stage.kind === 'join' ? [name] : []));
  const partitions = Math.ceil(total / partitionSize);
  // A join is a barrier across the whole run, so every partition must be running at once.
  const maxJoinPartitions = 1000;
  if (joins.length > 0 && partitions > maxJoinPartitions) {
    throw ApplicationFailure.nonRetryable(
      `Pipeline "${spec.name}" has a join, so all ${partitions} partitions must run at once (at most ${maxJoinPartitions}); raise partitionSize to at least ${Math.ceil(total / maxJoinPartitions)}.`,
      'InvalidPipelineSpec',
    );
  }
  const window = joins.length > 0 ? partitions : Math.max(1, input.partitionWindow ?? 4);
  const closed = new Set<number>();
  const releases = coordinateJoins(joins, partitions, closed, (k) => `${workflowInfo().workflowId}/p${k}`);
  const state = input.state ?? { nextPartition: 0, outcome: { ...emptyOutcome(), total } };
  let running = 0;
  let finished = state.nextPartition;
  /** Partitions running now: a client adds their own progress to the run's (liveProgress). */
  const active = new Set<number>();

  upsertSearchAttributes(runSearchAttributes(spec.name, input.run, 'running'));
  const withResults = patched(resultsPatch);
  setHandler(pipelineProgressQuery, () => {
    const progress = progressOf(state.outcome, 0, { total: partitions, done: finished, running }, total);
    progress.running = Math.max(0, Math.min(total, (finished + running) * partitionSize) - progress.done);
    progress.partitions.active = [...active];
    return progress;
  });

  const runPartition = async (k: number) => {
    running += 1;
    active.add(k);
    const outcome = await executeChild(pipelinePartition, {
      workflowId: `${workflowInfo().workflowId}/p${k}`,
      taskQueue: input.queues.workflow,
      staticSummary: `${spec.name} ${input.run}: partition ${k + 1} of ${partitions}, items ${k * partitionSize + 1}–${Math.min(total, (k + 1) * partitionSize)}`,
      typedSearchAttributes: runSearchAttributes(spec.name, input.run, `partition ${k}`),
      args: [
        {
          spec,
          run: input.run,
          entry,
          source: partitionSource(input.source, k, partitionSize),
          queues: input.queues,
          barrier: joins.length > 0 ? { runWorkflowId: workflowInfo().workflowId, partition: k } : undefined,
          part: withResults ? partName(k) : undefined,
        },
      ],
    });
    running -= 1;
    active.delete(k);
    finished += 1;
    closed.add(k);
    mergeOutcome(state.outcome, outcome, true);
    countPipelineItems(spec.name, outcome);
    state.outcome.deadLetters = state.outcome.deadLetters.slice(
      0,
      withResults ? inlineDeadLetterLimitWithParts : inlineDeadLetterLimit,
    );
  };

  const inFlight = new Set<Promise<void>>();
  while (state.nextPartition < partitions) {
    if (workflowInfo().continueAsNewSuggested && inFlight.size === 0) {
      await continueAsNew<typeof pipelineRun>({ ...input, state });
    }
    if (inFlight.size >= window || workflowInfo().continueAsNewSuggested) {
      await Promise.race(inFlight);
      continue;
    }
    const task: Promise<void> = runPartition(state.nextPartition).finally(() => inFlight.delete(task));
    inFlight.add(task);
    state.nextPartition += 1;
  }
  await Promise.all([...inFlight, releases]);

  const outcome: PipelineRunResult = { ...state.outcome, partitions, spec, run: input.run };
  await closeRun(spec, input, outcome, withResults);
  upsertSearchAttributes([{ key: BatchStage, value: 'done' }]);
  const tolerated = spec.toleratedFailurePercent ?? 100;
  const failedPercent = total === 0 ? 0 : (outcome.deadLettered * 100) / total;
  if (failedPercent > tolerated) {
    throw ApplicationFailure.nonRetryable(
      `${outcome.deadLettered} of ${total} items (${failedPercent.toFixed(1)}%) were dead-lettered, more than the tolerated ${tolerated}%.`,
      'ToleratedFailureExceeded',
      outcome,
    );
  }
  return outcome;
}

/**
 * The run's close: the summary of its results parts and its reduce reports. Both read only what
 * the partitions left, so runs started since `parallel-run-close` schedule them together (one
 * round trip less at the end of every run); earlier runs replay their one-after-the-other order.
 */
async function closeRun(
  spec: PipelineSpec,
  input: PipelineRunInput,
  outcome: PipelineRunResult,
  withResults: boolean,
): Promise<void> {
  const queue = bookkeepingQueue(spec, spec.activityQueue ?? input.queues.activity);
  const summarize = async () => {
    upsertSearchAttributes([{ key: BatchStage, value: 'results' }]);
    outcome.results = await summarizeResults(spec.name, input.run, queue);
  };
  // Only specs with reports schedule anything here, so runs of other specs replay unchanged.
  const report = async () => {
    upsertSearchAttributes([{ key: BatchStage, value: 'reports' }]);
    outcome.reports = await runReports(spec, input.run, spec.activityQueue ?? input.queues.activity, outcome.reduce);
  };
  const hasReports = reportsOf(spec).length > 0;
  if (withResults && hasReports && patched('parallel-run-close')) {
    await Promise.all([summarize(), report()]);
    return;
  }
  if (withResults) await summarize();
  if (hasReports) await report();
}

/** The summary of the run's results parts (counts, failure groups); never fails the run. */
async function summarizeResults(pipeline: string, run: string, taskQueue: string): Promise<ResultsSummary | undefined> {
  const acts = proxyActivities<typeof resultActivities>({
    summary: `results of ${pipeline} ${run}`,
    taskQueue,
    startToCloseTimeout: '5 minutes',
    scheduleToCloseTimeout: '15 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
  });
  try {
    return await acts.summarizeResults({ pipeline, run });
  } catch (error) {
    log.error('results not summarized', { error: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
}
