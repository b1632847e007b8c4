import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { stageActivity } from './stage-activity';

/** Passes items through unchanged: the cheapest stage (benchmarks, placeholders). */
export const noop = stageActivity(async (item) => item.data);

/** Records the stage in the item's `trail` and the attempt that passed it: shows an item's route. */
export const annotate = stageActivity(async (item, call) => {
  const trail = Array.isArray(item.data.trail) ? item.data.trail : [];
  return { ...item.data, trail: [...trail, call.stage] };
});

/**
 * Fails on purpose, driven by the item (tests and demos of poison handling):
 * `fail: 'invalid'` → non-retryable InvalidInput; `fail: 'always'` → retryable error on every
 * attempt; `fail: n` → fails the first n attempts, then succeeds.
 */
export const failWhen = stageActivity(async (item) => {
  const fail = item.data.fail;
  const attempt = Context.current().info.attempt;
  if (fail === 'invalid') throw ApplicationFailure.nonRetryable(`item ${item.id} is invalid`, 'InvalidInput');
  if (fail === 'always') throw ApplicationFailure.retryable(`item ${item.id} failed on attempt ${attempt}`, 'Poison');
  if (typeof fail === 'number' && attempt <= fail) {
    throw ApplicationFailure.retryable(`item ${item.id} failed on attempt ${attempt} of ${fail + 1}`, 'Flaky');
  }
  return item.data;
});

/** Waits `sleepMs` (default 100) per item: stragglers and long work in tests and demos. */
export const sleep = stageActivity(async (item) => {
  const ms = typeof item.data.sleepMs === 'number' ? item.data.sleepMs : 100;
  await Context.current().sleep(ms);
  return item.data;
});
