import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
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

/**
 * Turns per-item work into a batch stage activity. A batch reports each item's outcome so one
 * bad item cannot fail its neighbours; the workflow then retries failed items one by one
 * (`isolated`), where the item's error is thrown so Temporal's retry policy applies to it alone.
 */
export function stageActivity(work: ItemWork): StageActivity {
  return async (call: StageCall): Promise<StageItemResult[]> => {
    const results: StageItemResult[] = [];
    for (const item of call.items) {
      Context.current().heartbeat({ stage: call.stage, itemId: item.id });
      try {
        results.push({ id: item.id, ok: true, data: await work(item, call) });
      } catch (error) {
        if (call.isolated) throw error;
        results.push({ id: item.id, ok: false, error: asItemError(error) });
      }
    }
    return results;
  };
}
