/**
 * Hostile item values through the pipeline engine: whatever an item's data holds (objects whose
 * `toString` is not a function, `__proto__` and `constructor` keys, deep nesting, long strings
 * against a backtracking-prone pattern, ids and data of the wrong type), every item ends as a
 * pass, a drop or a dead letter, and no workflow task ever fails (a failed task is retried by the
 * server forever, wedging the run). Property-based (fast-check), with the seed printed so a
 * failure replays: FUZZ_SEED=<seed> npm run test:file -- test/engine-fuzz.test.ts
 */
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import fc from 'fast-check';
import type { PipelineItem, PipelineSpec } from '../src/pipelines/spec';
import { validatePipelineSpec } from '../src/pipelines/validate';
import { passesFilter } from '../src/workflows/patterns/filter';
import { addToReduce, emptyReduce, mergeReduce } from '../src/workflows/patterns/reduce';
import { shardOf } from '../src/workflows/patterns/sharder';
import { routeOf } from '../src/workflows/patterns/splitter';
import { pipelineRun, PipelineRunResult } from '../src/workflows/pipeline';
import { isolatedConfig } from './support/config';
import { withPipelineWorkers } from './support/pipeline-workers';
import { createTimeSkippingServer } from './support/servers';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

/** Values JSON can carry that have hurt workflow code: each is an own property, as a payload decodes it. */
const hostileObject = fc.constantFrom<unknown>(
  ...['{"toString": 1}', '{"valueOf": {}, "toString": null}', '{"__proto__": {"polluted": 1}}', '{"constructor": 1}']
    .map((json) => JSON.parse(json) as unknown)
    .concat([
      ['a', JSON.parse('{"toString": 1}')],
      '__proto__',
      'constructor',
      'hasOwnProperty',
      `${'a'.repeat(20_000)}!`,
    ]),
);
const deep = fc.integer({ min: 50, max: 200 }).map((depth) => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { tag: value } : [value];
  return value;
});
const hostileValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), hostileObject, deep);

const itemData = fc.record(
  { tag: hostileValue, channel: hostileValue, key: hostileValue, n: hostileValue, trail: hostileValue },
  { requiredKeys: [] },
);

/** Mostly sound items with hostile data; some with an id or data of the wrong type. */
const hostileItems = fc
  .array(
    fc.oneof(
      { weight: 8, arbitrary: itemData.map((data) => ({ data }) as Record<string, unknown>) },
      { weight: 1, arbitrary: fc.record({ data: hostileValue }) },
      { weight: 1, arbitrary: fc.record({ id: hostileValue, data: itemData }) },
    ),
    { minLength: 1, maxLength: 16 },
  )
  .map((items) => items.map((item, i) => ({ id: `item-${i}`, ...item }) as PipelineItem));

const spec: PipelineSpec = validatePipelineSpec({
  name: 'engine-fuzz',
  start: 'tagged',
  stages: {
    // RE2: linear on the 20,000-character tag; a backtracking RegExp blocks the workflow task.
    tagged: { kind: 'filter', where: { not: { field: 'tag', op: 'matches', value: '^(a+)+$' } }, next: 'route' },
    route: {
      kind: 'split',
      routes: [
        { when: { field: 'channel', op: 'in', value: ['email', 'sms'] }, to: 'shard' },
        { when: { field: 'n', op: 'gt', value: 3 }, to: 'annotate' },
      ],
      default: 'shard',
    },
    shard: { kind: 'shard', key: 'key', shards: 2, queue: 'engine-fuzz', activity: 'noop', next: 'annotate' },
    annotate: { kind: 'activity', activity: 'annotate', batchSize: 4, next: 'total' },
    total: { kind: 'reduce', sum: ['n'], histogram: ['tag', 'channel', 'key'] },
  },
});

describe(`engine under hostile item values (fast-check seed ${seed})`, function () {
  it('filter, split, shard key and reduce decide on any item data without throwing', () => {
    const stages = spec.stages as Record<string, never>;
    fc.assert(
      fc.property(hostileItems, (items) => {
        let acc = emptyReduce();
        for (const item of items.filter((i) => typeof i.id === 'string')) {
          passesFilter(stages.tagged, item);
          routeOf(stages.route, item);
          assert.ok([0, 1].includes(shardOf(stages.shard, item)));
          acc = mergeReduce(acc, addToReduce(stages.total, emptyReduce(), item));
        }
        // Nothing reached a prototype: bins are own properties and Object stays clean.
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
        for (const bins of Object.values(acc.histograms))
          for (const n of Object.values(bins)) assert.equal(typeof n, 'number');
      }),
      { numRuns: 300, seed },
    );
  });

  describe('on the time-skipping server', () => {
    let env: TestWorkflowEnvironment;
    before(async () => {
      env = await createTimeSkippingServer();
    });
    after(async () => {
      await env?.teardown();
    });

    /** The run's result, or the reason of the first failed workflow task of the run or a partition. */
    async function resultOrTaskFailure(handle: WorkflowHandle<typeof pipelineRun>): Promise<PipelineRunResult> {
      const taskFailure = async (): Promise<never> => {
        await new Promise((resolve) => setTimeout(resolve, 45_000));
        for (const id of [handle.workflowId, `${handle.workflowId}/p0`]) {
          const history = await env.client.workflow.getHandle(id).fetchHistory();
          const failed = history.events?.find((e) => e.workflowTaskFailedEventAttributes);
          if (failed)
            throw new Error(
              `${id}: workflow task failed: ${failed.workflowTaskFailedEventAttributes?.failure?.message}`,
            );
        }
        throw new Error(`${handle.workflowId} did not finish in 45 s`);
      };
      return Promise.race([handle.result(), taskFailure()]);
    }

    it('every item passes, is dropped or is dead-lettered; no workflow task fails', async () => {
      const config = isolatedConfig();
      const queues = { workflow: config.queues.workflow, activity: config.queues.stages };
      let round = 0;
      await withPipelineWorkers(env, config, ['engine-fuzz-shard-0', 'engine-fuzz-shard-1'], () =>
        fc.assert(
          fc.asyncProperty(hostileItems, async (items) => {
            round += 1;
            const handle = await env.client.workflow.start(pipelineRun, {
              taskQueue: queues.workflow,
              workflowId: `engine-fuzz-${seed}-${round}/run`,
              args: [{ spec, run: `fuzz-${round}`, source: { items }, queues }],
            });
            const result = await resultOrTaskFailure(handle);
            assert.equal(result.total, items.length);
            assert.equal(result.completed + result.dropped + result.deadLettered, items.length);
            const malformed = items.filter(
              (i) => typeof i.id !== 'string' || typeof i.data !== 'object' || i.data === null || Array.isArray(i.data),
            );
            const invalid = result.deadLetters.filter((d) => d.error.type === 'InvalidItem');
            assert.equal(
              invalid.length,
              malformed.length,
              'items of the wrong shape, and only those, are dead-lettered',
            );
            assert.equal(result.deadLettered, invalid.length);
            assert.equal(result.reduce.total?.count ?? 0, result.completed);
          }),
          { numRuns: 6, seed },
        ),
      );
    });
  });
});
