import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { metricNames } from '../../core/metrics';
import type { PipelineItem } from '../../pipelines/spec';
import type { StageActivity, StageCall, StageItemAnswer } from './types';

/** What a stage does to one item: returns the item's new data, or throws. */
export type ItemWork = (item: PipelineItem, call: StageCall) => Promise<Record<string, unknown>>;

function asItemError(error: unknown): { type: string; message: string; retryable: boolean } {
  if (error instanceof ApplicationFailure) {
    return { type: error.type ?? 'Error', message: error.message, retryable: !error.nonRetryable };
  }
  return {
    type: error instanceof Error ? error.name : 'Error',
    message: String((error as Error)?.message ?? error),
    retryable: true,
  };
}

/** How often a batch heartbeats the item it is on (the auto-heartbeat interceptor covers long items). */
const heartbeatEveryMs = 1000;

/**
 * Turns per-item work into a batch stage activity. A batch reports each item's outcome so one
 * bad item cannot fail its neighbours; the workflow then retries failed items one by one
 * (`isolated`), where the item's error is thrown so Temporal's retry policy applies to it alone.
 *
 * Each item's work time goes to the `batch_stage_item_duration` histogram; the logs (the
 * activity's logger: JSON with workflowId, activityType, attempt) carry the run and item IDs —
 * a WARN line per failed item, a DEBUG line per batch.
 */
export interface StageActivityOptions {
  /**
   * Items of one batch worked on at once (default 1: one after the other). For work that waits on
   * native threads or I/O (sharp, ffmpeg, the network) and is safe to run side by side: a batch's
   * last items then use every core instead of one, while the batch still costs one task round trip.
   */
  itemsAtOnce?: number;
}

/** Runs `each` over `items` with at most `atOnce` running; each gets its item's index. */
async function inLanes<T>(items: T[], atOnce: number, each: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      await each(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(atOnce, items.length)) }, lane));
}

export function stageActivity(work: ItemWork, options: StageActivityOptions = {}): StageActivity {
  const itemsAtOnce = options.itemsAtOnce ?? 1;
  const activity = async (call: StageCall): Promise<StageItemAnswer[]> => {
    const context = Context.current();
    // Metric labels stay bounded (no run or item IDs); logs carry those.
    const labels = { pipeline: call.pipeline, stage: call.stage };
    const where = { ...labels, run: call.run };
    const duration = context.metricMeter.createHistogram(
      metricNames.stageItemDuration,
      'float',
      'ms',
      "One item's work in a stage activity",
    );
    const okLabels = { ...labels, outcome: 'ok' };
    const failedLabels = { ...labels, outcome: 'failed' };
    const results: StageItemAnswer[] = new Array(call.items.length);
    let lastBeat = -Infinity;
    await inLanes(call.items, call.isolated ? 1 : itemsAtOnce, async (item, index) => {
      // The item in hand, at most once a second (local activities have no heartbeats): each
      // heartbeat serialises its details and crosses into the SDK's core, dearer than a cheap item.
      const started = performance.now();
      if (!context.info.isLocal && started - lastBeat >= heartbeatEveryMs) {
        context.heartbeat({ stage: call.stage, itemId: item.id });
        lastBeat = started;
      }
      try {
        const data = await work(item, call);
        results[index] =
          call.keepsUnchanged && data === item.data ? { id: item.id, ok: true } : { id: item.id, ok: true, data };
        duration.record(performance.now() - started, okLabels);
      } catch (error) {
        duration.record(performance.now() - started, failedLabels);
        const failure = asItemError(error);
        context.log.warn('stage item failed', {
          ...where,
          itemId: item.id,
          errorType: failure.type,
          error: failure.message,
          retryable: failure.retryable,
          isolated: call.isolated,
        });
        if (call.isolated) throw error;
        results[index] = { id: item.id, ok: false, error: failure };
      }
    });
    // DEBUG, like the SDK's own per-activity lines: a busy worker writes one per batch.
    context.log.debug('stage batch done', {
      ...where,
      itemIds: call.items.map((item) => item.id),
      failed: results.filter((r) => !r.ok).length,
    });
    return results;
  };
  // Answers without data only when the call keepsUnchanged: the overloads of StageActivity say so.
  return activity as StageActivity;
}
