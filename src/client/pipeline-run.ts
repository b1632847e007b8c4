import { Client, WorkflowExecutionAlreadyStartedError, WorkflowHandle } from '@temporalio/client';
import { PRIORITY_NEW_WORK } from '../core/priorities';
import { runSearchAttributes } from '../core/search-attributes';
import { writeItemsManifest } from '../activities/pipeline/results';
import { runItemsKey } from '../activities/pipeline/run-outputs';
import type { PipelineItem, PipelineSpec } from '../pipelines/spec';
import { validatePipelineSpec } from '../pipelines/validate';
import type { BatchConfig } from '../infra/config';
import {
  ItemSource,
  pipelineProgressQuery,
  PipelineProgress,
  pipelineRun,
  PipelineRunResult,
  sourceSize,
} from '../workflows/pipeline';

export interface PipelineRunOptions {
  /** Names the run: workflow ID `<pipeline>/<run>`; a second start of the same run joins the first. */
  runName: string;
  /** Partition child workflows at once (default 4). */
  partitionWindow?: number;
  /** Task-queue priority key of the run and everything it starts (default: new work, 1). */
  priority?: number;
  /** Stage the items enter at (default: the spec's start). */
  entry?: string;
}

/** Runs with more items than this pass them by reference (a manifest object), so the run's input stays small. */
export const inlineItemsLimit = 100;

/** Items of a source, however it holds them; 0 for an item reader (the run counts them when it plans its pages). */
export function sourceCount(source: ItemSource): number {
  return sourceSize(source);
}

/** How a start's summary names the items: "12 items", or where an item reader reads them. */
function itemsText(source: ItemSource): string {
  return 'reader' in source ? `items of ${source.reader.uri}` : `${sourceCount(source)} items`;
}

/**
 * A source whose payload stays small: many inline items are written to the run's manifest
 * (`inputs/<pipeline>/<run>/items.jsonl` in the object store, under `<dataDir>` on the local
 * backend), which each partition reads its page of by URI.
 */
export async function byReference(pipeline: string, run: string, source: ItemSource): Promise<ItemSource> {
  if (!('items' in source) || source.items.length <= inlineItemsLimit) return source;
  const uri = await writeItemsManifest(runItemsKey(pipeline, run), source.items);
  return { manifest: { uri, count: source.items.length } };
}

export const pipelineWorkflowId = (pipeline: string, runName: string) => `${pipeline}/${runName}`;

export interface SubmittedPipelineRun {
  handle: WorkflowHandle<typeof pipelineRun>;
  /** False when the workflow ID already named a run (going or finished): the server started nothing. */
  started: boolean;
}

/**
 * Starts a run of a pipeline spec on a source of items. The spec is validated here first, so a
 * bad spec fails before anything starts, with every problem and its fix. The workflow ID is
 * derived from (pipeline, run), so the server deduplicates: submitting the same run again
 * returns the run already going or already finished, and starts nothing.
 */
export async function startPipelineRun(
  client: Client,
  config: BatchConfig,
  spec: PipelineSpec,
  source: ItemSource,
  options: PipelineRunOptions,
): Promise<WorkflowHandle<typeof pipelineRun>> {
  return (await submitPipelineRun(client, config, spec, source, options)).handle;
}

/** startPipelineRun, also telling whether this call started the run or found it (API answers 202 or 200). */
export async function submitPipelineRun(
  client: Client,
  config: BatchConfig,
  spec: PipelineSpec,
  source: ItemSource,
  options: PipelineRunOptions,
): Promise<SubmittedPipelineRun> {
  const valid = validatePipelineSpec(spec);
  const workflowId = pipelineWorkflowId(valid.name, options.runName);
  // A run already going keeps its manifest: the same run name never rewrites the items of another.
  const existing = await client.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      () => true,
      () => false,
    );
  if (!existing) source = await byReference(valid.name, options.runName, source);
  const started = client.workflow.start(pipelineRun, {
    workflowId,
    taskQueue: config.queues.workflow,
    // FAIL (not USE_EXISTING): the server's refusal is how we learn the run already existed.
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    staticSummary: `${valid.name} run ${options.runName}: ${itemsText(source)}${options.entry ? ` from stage ${options.entry}` : ''}`,
    args: [
      {
        spec: valid,
        run: options.runName,
        source,
        queues: { workflow: config.queues.workflow, activity: config.queues.stages },
        partitionWindow: options.partitionWindow,
        entry: options.entry,
      },
    ],
    priority: { priorityKey: options.priority ?? PRIORITY_NEW_WORK },
    typedSearchAttributes: runSearchAttributes(valid.name, options.runName, 'queued'),
  });
  return started.then(
    (handle) => ({ handle, started: true }),
    (error: unknown) => {
      if (error instanceof WorkflowExecutionAlreadyStartedError)
        return { handle: client.workflow.getHandle<typeof pipelineRun>(workflowId), started: false };
      throw error;
    },
  );
}

/** Runs a pipeline on items and waits for its result; `onProgress` is called about every second. */
export async function runPipeline(
  client: Client,
  config: BatchConfig,
  spec: PipelineSpec,
  items: PipelineItem[],
  options: PipelineRunOptions & { onProgress?: (progress: PipelineProgress) => void },
): Promise<PipelineRunResult> {
  const handle = await startPipelineRun(client, config, spec, { items }, options);
  const onProgress = options.onProgress;
  const ticker = onProgress
    ? setInterval(() => void handle.query(pipelineProgressQuery).then(onProgress, () => undefined), 1000)
    : undefined;
  try {
    return await handle.result();
  } finally {
    if (ticker) clearInterval(ticker);
  }
}

/**
 * The run's handle, with a `progress` that counts items as they finish: the run merges a
 * partition's counts when the partition ends, so its answer is added the progress of the
 * partitions running now (each answers its own `progress` query).
 */
export function withLiveProgress(client: Client, handle: WorkflowHandle<typeof pipelineRun>) {
  const query = async (): Promise<PipelineProgress> => {
    const run = await handle.query(pipelineProgressQuery);
    const active = run.partitions.active ?? [];
    if (active.length === 0) return run;
    const parts = await Promise.all(
      active.map((k) =>
        client.workflow
          .getHandle(`${handle.workflowId}/p${k}`)
          .query(pipelineProgressQuery)
          .catch(() => undefined),
      ),
    );
    const live = { ...run, running: 0 };
    for (const p of parts) {
      if (!p) continue;
      live.completed += p.completed;
      live.dropped += p.dropped;
      live.deadLettered += p.deadLettered;
      live.running += p.running;
    }
    live.done = Math.min(run.total, live.completed + live.dropped + live.deadLettered);
    return live;
  };
  return {
    workflowId: handle.workflowId,
    query: <P>(def: { name: string }) =>
      (def.name === pipelineProgressQuery.name ? query() : handle.query(def as never)) as Promise<P>,
    result: () => handle.result(),
    describe: () => handle.describe(),
  };
}
