import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { metricNames } from '../../core/metrics';
import type { PipelineItem } from '../../pipelines/spec';
import type { StageActivity, StageCall, StageItemResult } from './types';

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
export function stageActivity(work: ItemWork): StageActivity {
  return async (call: StageCall): Promise<StageItemResult[]> => {
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
    const results: StageItemResult[] = [];
    let lastBeat = -Infinity;
    for (const item of call.items) {
      // The item in hand, at most once a second (local activities have no heartbeats): each
      // heartbeat serialises its details and crosses into the SDK's core, dearer than a cheap item.
      const started = performance.now();
      if (!context.info.isLocal && started - lastBeat >= heartbeatEveryMs) {
        context.heartbeat({ stage: call.stage, itemId: item.id });
        lastBeat = started;
      }
      try {
        results.push({ id: item.id, ok: true, data: await work(item, call) });
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
        results.push({ id: item.id, ok: false, error: failure });
      }
    }
    // DEBUG, like the SDK's own per-activity lines: a busy worker writes one per batch.
    context.log.debug('stage batch done', {
      ...where,
      itemIds: call.items.map((item) => item.id),
      failed: results.filter((r) => !r.ok).length,
    });
    return results;
  };
}
