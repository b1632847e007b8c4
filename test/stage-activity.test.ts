/**
 * stageActivity (src/activities/pipeline/stage-activity.ts), the wrapper every stage activity is
 * made with: a batch's items side by side (`itemsAtOnce`), answers in item order, one bad item
 * answered in its place, unchanged items answered without their data when the call allows it.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { stageActivity } from '../src/activities/pipeline/stage-activity';
import type { StageCall, StageItemAnswer } from '../src/activities/pipeline/types';

const quiet = () => undefined;
const environment = () =>
  new MockActivityEnvironment(undefined, {
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet },
  });

const call = (n: number, extra: Partial<StageCall> = {}): StageCall => ({
  pipeline: 'p',
  run: 'r',
  stage: 's',
  items: Array.from({ length: n }, (_, i) => ({ id: `i${i}`, data: { n: i } })),
  isolated: false,
  ...extra,
});

describe('stage activity wrapper', () => {
  it('works on at most itemsAtOnce items of a batch at a time and answers in item order, a bad item in its place', async () => {
    let running = 0;
    let most = 0;
    const activity = stageActivity(
      async (item) => {
        running += 1;
        most = Math.max(most, running);
        // Later items finish first: the answers must still come in item order.
        await sleep(30 - 3 * Number(item.data.n));
        running -= 1;
        if (item.id === 'i4') throw ApplicationFailure.nonRetryable('bad item i4', 'InvalidInput');
        return { ...item.data, seen: true };
      },
      { itemsAtOnce: 3 },
    );
    const answers: StageItemAnswer[] = await environment().run(activity, call(9));
    assert.equal(most, 3, 'three items at once, never more');
    assert.deepEqual(
      answers.map((a) => a.id),
      ['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i8'],
    );
    const bad = answers[4];
    assert.ok(!bad.ok && bad.error.type === 'InvalidInput' && !bad.error.retryable);
    assert.deepEqual(answers[7], { id: 'i7', ok: true, data: { n: 7, seen: true } });
  });

  it('works one item at a time by default', async () => {
    let running = 0;
    let most = 0;
    const activity = stageActivity(async (item) => {
      most = Math.max(most, ++running);
      await sleep(2);
      running -= 1;
      return item.data;
    });
    await environment().run(activity, call(5));
    assert.equal(most, 1);
  });

  it('answers an item whose data came back unchanged without the data, only when the call keeps its items', async () => {
    const activity = stageActivity(async (item) => (item.id === 'i1' ? { ...item.data, changed: true } : item.data));
    const kept = await environment().run(activity, call(2, { keepsUnchanged: true }));
    assert.deepEqual(kept, [
      { id: 'i0', ok: true },
      { id: 'i1', ok: true, data: { n: 1, changed: true } },
    ]);
    const echoed: StageItemAnswer[] = await environment().run(activity, call(2));
    assert.deepEqual(echoed[0], { id: 'i0', ok: true, data: { n: 0 } });
  });
});
