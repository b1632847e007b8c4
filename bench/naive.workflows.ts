/**
 * The naive baseline of bench/pipeline-throughput.ts, bundled on its own: the shape of many
 * samples, one child workflow per item, each child doing the pipeline's 4 logical steps (copy →
 * filter → split → merge) with one activity call per step. The parent keeps a bounded window of
 * children running and continues-as-new every `perRun` children (draining its window first) so
 * its own history stays bounded; without that its history would grow by ~3 events per item.
 *
 * The activity is the project's `noop` stage activity, called with one item and `isolated: true`
 * (what the pipeline engine does for a single item), with the engine's activity options.
 */
import {
  continueAsNew,
  defineQuery,
  executeChild,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { StageActivity } from '../src/activities/pipeline/types';
import { evaluate } from '../src/pipelines/predicate';
import type { PipelineItem, Predicate } from '../src/pipelines/spec';

export interface NaiveRunInput {
  run: string;
  count: number;
  /** Task queue of the children (this bundle's worker) and of the stage activities. */
  queues: { workflow: string; activity: string };
  /** Children running at once. */
  window: number;
  /** Children per parent run before it continues-as-new. */
  perRun: number;
  /** The filter step's predicate (the same one the pipeline's filter stages use). */
  keep: Predicate;
  /** Carried across continue-as-new. */
  state?: NaiveState;
}

interface NaiveState {
  next: number;
  completed: number;
  dropped: number;
  even: number;
  odd: number;
  runs: number;
}

export interface NaiveItemInput {
  run: string;
  n: number;
  activityQueue: string;
  keep: Predicate;
}

export type NaiveItemResult = 'dropped' | 'even' | 'odd';

export interface NaiveRunResult extends Omit<NaiveState, 'next'> {
  total: number;
}

/** Items finished so far, across continue-as-new (the benchmark stops capped runs with it). */
export const naiveProgressQuery = defineQuery<{ started: number; completed: number }>('naiveProgress');

export async function naiveItem(input: NaiveItemInput): Promise<NaiveItemResult> {
  const { noop } = proxyActivities<Record<'noop', StageActivity>>({
    taskQueue: input.activityQueue,
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
  });
  let item: PipelineItem = { id: `item-${input.n}`, data: { n: input.n } };
  const step = async (stage: string): Promise<void> => {
    const [result] = await noop({ pipeline: 'naive', run: input.run, stage, items: [item], isolated: true });
    if (!result.ok) throw new Error(`item ${item.id} failed in ${stage}: ${result.error.message}`);
    item = { ...item, data: result.data };
  };
  await step('copy');
  await step('filter');
  if (!evaluate(input.keep, item)) return 'dropped';
  const route = input.n % 2 === 0 ? 'even' : 'odd';
  await step(route);
  await step('merge');
  return route;
}

export async function naiveRun(input: NaiveRunInput): Promise<NaiveRunResult> {
  const state: NaiveState = input.state ?? { next: 0, completed: 0, dropped: 0, even: 0, odd: 0, runs: 0 };
  state.runs += 1;
  setHandler(naiveProgressQuery, () => ({ started: state.next, completed: state.completed }));
  const parent = workflowInfo().workflowId;
  const stop = Math.min(input.count, state.next + input.perRun);
  const inFlight = new Set<Promise<void>>();

  const runItem = async (n: number): Promise<void> => {
    const outcome = await executeChild(naiveItem, {
      workflowId: `${parent}/item-${n}`,
      taskQueue: input.queues.workflow,
      args: [{ run: input.run, n, activityQueue: input.queues.activity, keep: input.keep }],
    });
    state.completed += 1;
    if (outcome === 'dropped') state.dropped += 1;
    else state[outcome] += 1;
  };

  while (state.next < stop && !workflowInfo().continueAsNewSuggested) {
    if (inFlight.size >= input.window) {
      await Promise.race(inFlight);
      continue;
    }
    const task: Promise<void> = runItem(state.next).finally(() => inFlight.delete(task));
    inFlight.add(task);
    state.next += 1;
  }
  await Promise.all(inFlight);
  if (state.next < input.count) await continueAsNew<typeof naiveRun>({ ...input, state });
  const { completed, dropped, even, odd, runs } = state;
  return { total: input.count, completed, dropped, even, odd, runs };
}
