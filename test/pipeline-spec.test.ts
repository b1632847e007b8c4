/**
 * Pipeline specs: the example files load and validate, the TypeScript builder produces the same data
 * as JSON/YAML, every validation problem is reported with its path and a message that says how to
 * fix it, predicates evaluate as documented, durations parse like the `ms` package, and parse
 * errors name the file and line.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ms from 'ms';
import { stageActivityNames } from '../src/pipelines/activity-names';
import {
  activity,
  all,
  any,
  copy,
  definePipeline,
  field,
  filter,
  join,
  not,
  reduce,
  route,
  shard,
  split,
} from '../src/pipelines/builder';
import { closestMatch } from '../src/pipelines/did-you-mean';
import { loadPipelineSpecFile, parsePipelineSpec, PipelineSpecParseError } from '../src/pipelines/load';
import { evaluate, fieldValue, predicateProblems } from '../src/pipelines/predicate';
import { reachableFrom, specSuccessors, stageTargets, upstreamOf } from '../src/pipelines/stage-graph';
import { channelSplit, problemsOf } from './support/pipeline-specs';
import type { PipelineItem, PipelineSpec, Predicate } from '../src/pipelines/spec';
import {
  parseDuration,
  PipelineSpecError,
  pipelineSpecProblems,
  validatePipelineSpec,
} from '../src/pipelines/validate';

const examplesDir = path.join(__dirname, '..', 'pipelines', 'examples');
const msParse = ms as unknown as (text: string) => number;

/** A deep copy (specs in tables are mutated). */
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** A valid spec using every kind of stage; the table below breaks it one way at a time. */
const notify = {
  name: 'notify',
  start: 'enrich',
  stages: {
    enrich: {
      kind: 'shard',
      key: '$id',
      shards: 2,
      queue: 'enrich',
      activity: 'annotate',
      retry: { initialInterval: '1 second', maximumInterval: '10 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
      next: 'fan-out',
    },
    'fan-out': { kind: 'copy', to: ['opted-in', 'audit'] },
    audit: { kind: 'activity', activity: 'noop', timeout: '1 minute', next: 'done' },
    'opted-in': { kind: 'filter', where: { field: 'optIn', op: 'eq', value: true }, next: 'notify' },
    notify: channelSplit,
    email: { kind: 'activity', activity: 'annotate', batchSize: 10, next: 'done' },
    sms: { kind: 'activity', activity: 'annotate', next: 'done' },
    other: { kind: 'activity', activity: 'noop', next: 'done' },
    done: { kind: 'join', next: 'report' },
    report: { kind: 'reduce', sum: ['bytes'], histogram: ['channel', '$origin'] },
  },
} satisfies PipelineSpec;

type Stages = Record<string, Record<string, unknown>>;
type Mutable = Omit<Record<string, unknown>, 'stages'> & { stages: Stages };

/** `notify` changed by `change`. */
function broken(change: (spec: Mutable) => void): Mutable {
  const spec = clone(notify) as unknown as Mutable;
  change(spec);
  return spec;
}

describe('pipeline specs', () => {
  describe('example files', () => {
    it('signup-notify.yaml loads and validates', () => {
      const spec = loadPipelineSpecFile(path.join(examplesDir, 'signup-notify.yaml'));
      assert.equal(spec.name, 'signup-notify');
      const enrich = spec.stages[spec.start];
      assert.ok(enrich.kind === 'shard');
      assert.deepEqual([enrich.key, enrich.shards, enrich.activity], ['$id', 3, 'annotate']);
      const fanOut = spec.stages[enrich.next!];
      assert.ok(fanOut.kind === 'copy');
      assert.equal(fanOut.to.length, 2);
      assert.equal(fanOut.mode ?? 'all', 'all');
      const optedIn = Object.values(spec.stages).find((stage) => stage.kind === 'filter');
      assert.deepEqual(optedIn?.kind === 'filter' && optedIn.where, { field: 'optIn', op: 'eq', value: true });
      const byChannel = Object.values(spec.stages).find((stage) => stage.kind === 'split');
      assert.ok(byChannel?.kind === 'split');
      assert.deepEqual(
        byChannel.routes.map((r) => [r.when, spec.stages[r.to]]),
        ['email', 'sms'].map((channel) => [
          { field: 'channel', op: 'eq', value: channel },
          { kind: 'activity', activity: 'annotate', timeout: '30 seconds' },
        ]),
      );
      assert.deepEqual(spec.stages[byChannel.default], { kind: 'activity', activity: 'noop' });
    });

    it('tagging-report.json loads and validates', () => {
      const spec = loadPipelineSpecFile(path.join(examplesDir, 'tagging-report.json'));
      const tag = spec.stages[spec.start];
      assert.ok(tag.kind === 'activity');
      assert.deepEqual([tag.activity, tag.batchSize], ['annotate', 50]);
      const joined = spec.stages[tag.next!];
      assert.ok(joined.kind === 'join');
      assert.deepEqual(spec.stages[joined.next!], { kind: 'reduce', sum: ['bytes'], histogram: ['tag'] });
    });

    it('every file in pipelines/examples is valid', () => {
      const files = fs.readdirSync(examplesDir);
      assert.ok(files.length >= 2);
      for (const file of files) loadPipelineSpecFile(path.join(examplesDir, file));
    });
  });

  describe('TypeScript builder', () => {
    it('produces the same spec as signup-notify.yaml', () => {
      const built = definePipeline({
        name: 'signup-notify',
        description: 'New sign-ups enriched on 3 sharded queues, audited, and notified by e-mail or SMS when opted in',
        start: 'enrich',
        concurrency: 20,
        partitionSize: 500,
        toleratedFailurePercent: 5,
        stages: {
          enrich: shard({
            key: '$id',
            shards: 3,
            queue: 'signup-enrich',
            activity: 'annotate',
            batchSize: 10,
            timeout: '1 minute',
            retry: {
              initialInterval: '1 second',
              backoffCoefficient: 2,
              maximumInterval: '30 seconds',
              maximumAttempts: 5,
            },
            next: 'fan-out',
          }),
          'fan-out': copy(['audit', 'opted-in'], 'all'),
          audit: activity('annotate'),
          'opted-in': filter(field('optIn').eq(true), 'by-channel'),
          'by-channel': split(
            [route(field('channel').eq('email'), 'email'), route(field('channel').eq('sms'), 'sms')],
            'no-channel',
          ),
          email: activity('annotate', { timeout: '30 seconds' }),
          sms: activity('annotate', { timeout: '30 seconds' }),
          'no-channel': activity('noop'),
        },
      });
      assert.deepEqual(built, loadPipelineSpecFile(path.join(examplesDir, 'signup-notify.yaml')));
    });

    it('produces the same spec as tagging-report.json', () => {
      const built = definePipeline({
        name: 'tagging-report',
        description: 'Images tagged in batches of 50, then one report after a join: bytes summed, a histogram of tags',
        start: 'tag',
        partitionSize: 1000,
        stages: {
          tag: activity('annotate', {
            batchSize: 50,
            timeout: '2 minutes',
            retry: { initialInterval: '500 ms', maximumInterval: '10 seconds', maximumAttempts: 3 },
            next: 'all-tagged',
          }),
          'all-tagged': join('report'),
          report: reduce({ sum: ['bytes'], histogram: ['tag'] }),
        },
      });
      assert.deepEqual(built, JSON.parse(fs.readFileSync(path.join(examplesDir, 'tagging-report.json'), 'utf8')));
    });

    it('builds predicates', () => {
      assert.deepEqual(
        all(
          field('a').ne(1),
          field('b').gt(2),
          field('c').gte('x'),
          any(field('d').lt(3), field('e').lte(4)),
          not(field('f').in(['x', null])),
          field('g').exists(),
          field('h').matches('^a'),
        ),
        {
          all: [
            { field: 'a', op: 'ne', value: 1 },
            { field: 'b', op: 'gt', value: 2 },
            { field: 'c', op: 'gte', value: 'x' },
            {
              any: [
                { field: 'd', op: 'lt', value: 3 },
                { field: 'e', op: 'lte', value: 4 },
              ],
            },
            { not: { field: 'f', op: 'in', value: ['x', null] } },
            { field: 'g', op: 'exists' },
            { field: 'h', op: 'matches', value: '^a' },
          ],
        },
      );
    });

    it('rejects unknown stage names at compile time, and still validates at run time', () => {
      assert.throws(
        () =>
          definePipeline({
            name: 'typo',
            start: 'check',
            stages: {
              check: {
                kind: 'filter',
                where: field('optIn').eq(true),
                // @ts-expect-error: "emial" is not a stage of this pipeline
                next: 'emial',
              },
              email: activity('annotate'),
            },
          }),
        /unknown stage "emial"; did you mean "email"\?/,
      );
      assert.throws(
        () =>
          definePipeline({
            name: 'typo',
            start: 'check',
            stages: {
              // @ts-expect-error: helpers check stage names too
              check: filter(field('optIn').eq(true), 'emial'),
              email: activity('annotate'),
            },
          }),
        PipelineSpecError,
      );
      assert.throws(
        () =>
          definePipeline({
            name: 'typo',
            // @ts-expect-error: start must name a stage
            start: 'chek',
            stages: { check: activity('noop') },
          }),
        /start: unknown stage "chek"; did you mean "check"\?/,
      );
      // @ts-expect-error: only registered activities
      assert.throws(() => definePipeline({ name: 'typo', start: 'a', stages: { a: activity('anotate') } }));
    });

    it('validates what the types cannot see: cycles', () => {
      assert.throws(
        () => definePipeline({ name: 'loop', start: 'a', stages: { a: join('b'), b: join('a') } }),
        /stages\.b\.next: cycle a → b → a/,
      );
    });
  });

  describe('validation', () => {
    it('accepts a valid spec and returns it typed', () => {
      const spec = clone(notify);
      assert.equal(validatePipelineSpec(spec), spec);
      assert.deepEqual(pipelineSpecProblems(spec), []);
    });

    const cases: { name: string; spec: unknown; path: string; message: RegExp }[] = [
      { name: 'not an object', spec: 'notify', path: '', message: /must be an object with name, start and stages/ },
      { name: 'an array', spec: [], path: '', message: /not an array/ },
      { name: 'missing name', spec: broken((s) => delete s.name), path: 'name', message: /missing name.*e\.g\./ },
      { name: 'empty name', spec: broken((s) => (s.name = '')), path: 'name', message: /non-empty string/ },
      {
        name: 'name with spaces',
        spec: broken((s) => (s.name = 'sign up/notify')),
        path: 'name',
        message: /may only contain letters, digits.*e\.g\. "sign-up-notify"/,
      },
      {
        name: 'unknown top-level property',
        spec: broken((s) => (s.concurency = 3)),
        path: 'concurency',
        message: /unknown property "concurency"; did you mean "concurrency"\? Allowed properties: name, start/,
      },
      {
        name: 'missing start',
        spec: broken((s) => delete s.start),
        path: 'start',
        message: /missing start.*Stages are: enrich/,
      },
      {
        name: 'start names no stage',
        spec: broken((s) => (s.start = 'enrch')),
        path: 'start',
        message: /unknown stage "enrch"; did you mean "enrich"\? Stages are: enrich, fan-out/,
      },
      {
        name: 'missing stages',
        spec: { name: 'x', start: 'a' },
        path: 'stages',
        message: /missing stages; add an object/,
      },
      {
        name: 'stages not an object',
        spec: { name: 'x', start: 'a', stages: [] },
        path: 'stages',
        message: /must be an object mapping/,
      },
      {
        name: 'no stages',
        spec: { name: 'x', start: 'a', stages: {} },
        path: 'stages',
        message: /is empty; add at least one stage/,
      },
      {
        name: 'bad stage name',
        spec: { name: 'x', start: 'a b', stages: { 'a b': { kind: 'join' } } },
        path: 'stages["a b"]',
        message: /may only contain letters, digits, "_" and "-".*rename it, e\.g\. "a-b"/,
      },
      {
        name: 'stage not an object',
        spec: broken((s) => (s.stages.audit = 'noop' as never)),
        path: 'stages.audit',
        message: /must be a stage object with a kind/,
      },
      {
        name: 'missing kind',
        spec: broken((s) => delete s.stages.audit.kind),
        path: 'stages.audit.kind',
        message: /missing kind; set kind to one of: activity, filter, split, copy, shard, join, reduce/,
      },
      {
        name: 'kind typo',
        spec: broken((s) => (s.stages['opted-in'].kind = 'filtr')),
        path: 'stages.opted-in.kind',
        message: /unknown kind "filtr"; did you mean "filter"\? Kinds are: activity, filter/,
      },
      {
        name: 'activity typo',
        spec: broken((s) => (s.stages.email.activity = 'anotate')),
        path: 'stages.email.activity',
        message:
          /unknown activity "anotate"; did you mean "annotate"\? Activities are: noop, annotate, fail-when, sleep/,
      },
      {
        name: 'unknown activity, nothing close',
        spec: broken((s) => (s.stages.email.activity = 'send-email')),
        path: 'stages.email.activity',
        message: /^unknown activity "send-email"\. Activities are: noop, annotate/,
      },
      {
        name: 'missing activity',
        spec: broken((s) => delete s.stages.email.activity),
        path: 'stages.email.activity',
        message: /missing activity; name the stage activity to run\. Activities are:/,
      },
      {
        name: 'next names no stage',
        spec: broken((s) => (s.stages.email.next = 'don')),
        path: 'stages.email.next',
        message: /unknown stage "don"; did you mean "done"\?/,
      },
      {
        name: 'next not a string',
        spec: broken((s) => (s.stages.email.next = ['done'] as never)),
        path: 'stages.email.next',
        message: /must be a stage name \(a string\), not an array/,
      },
      {
        name: 'route to a typo',
        spec: broken((s) => ((s.stages.notify.routes as { to: string }[])[1].to = 'sm')),
        path: 'stages.notify.routes[1].to',
        message: /unknown stage "sm"; did you mean "sms"\? Stages are: enrich, fan-out, audit/,
      },
      {
        name: 'default names no stage',
        spec: broken((s) => (s.stages.notify.default = 'othr')),
        path: 'stages.notify.default',
        message: /unknown stage "othr"; did you mean "other"\?/,
      },
      {
        name: 'split without default',
        spec: broken((s) => delete s.stages.notify.default),
        path: 'stages.notify.default',
        message: /missing default: items that match no route would have a branch with no target; set default/,
      },
      {
        name: 'split without routes',
        spec: broken((s) => delete s.stages.notify.routes),
        path: 'stages.notify.routes',
        message: /missing routes; list at least one/,
      },
      {
        name: 'split with no routes',
        spec: broken((s) => (s.stages.notify.routes = [])),
        path: 'stages.notify.routes',
        message: /is empty; list at least one/,
      },
      {
        name: 'route without when',
        spec: broken((s) => delete (s.stages.notify.routes as { when?: unknown }[])[0].when),
        path: 'stages.notify.routes[0].when',
        message: /missing when/,
      },
      {
        name: 'split with next',
        spec: broken((s) => (s.stages.notify.next = 'done')),
        path: 'stages.notify.next',
        message: /a split stage has no "next": it sends items on with "routes" and "default"; remove "next"/,
      },
      {
        name: 'copy to one branch',
        spec: broken((s) => (s.stages['fan-out'].to = ['audit'])),
        path: 'stages.fan-out.to',
        message: /a copy needs at least 2 distinct branches \(got 1\); add another branch/,
      },
      {
        name: 'copy to the same branch twice',
        spec: broken((s) => (s.stages['fan-out'].to = ['audit', 'audit'])),
        path: 'stages.fan-out.to[1]',
        message: /"audit" is listed twice; copy into distinct branches/,
      },
      {
        name: 'copy mode typo',
        spec: broken((s) => (s.stages['fan-out'].mode = 'rase')),
        path: 'stages.fan-out.mode',
        message: /unknown mode "rase"; did you mean "race"\? Modes are: all/,
      },
      {
        name: 'filter without where',
        spec: broken((s) => delete s.stages['opted-in'].where),
        path: 'stages.opted-in.where',
        message: /missing where; give the predicate/,
      },
      {
        name: 'unknown op',
        spec: broken((s) => (s.stages['opted-in'].where = { field: 'optIn', op: '==', value: true })),
        path: 'stages.opted-in.where.op',
        message: /unknown op "=="; did you mean "eq"\? Ops are: eq, ne/,
      },
      {
        name: 'op typo',
        spec: broken((s) => (s.stages['opted-in'].where = { field: 'name', op: 'matchs', value: 'a' })),
        path: 'stages.opted-in.where.op',
        message: /did you mean "matches"\?/,
      },
      {
        name: 'predicate without field',
        spec: broken((s) => (s.stages['opted-in'].where = { op: 'eq', value: true })),
        path: 'stages.opted-in.where.field',
        message: /missing field; name a field of the item data/,
      },
      {
        name: 'predicate field with an empty segment',
        spec: broken((s) => (s.stages['opted-in'].where = { field: 'user..optIn', op: 'exists' })),
        path: 'stages.opted-in.where.field',
        message: /empty segment; separate nested field names with single dots/,
      },
      {
        name: 'unknown special field',
        spec: broken((s) => (s.stages['opted-in'].where = { field: '$ID', op: 'exists' })),
        path: 'stages.opted-in.where.field',
        message: /unknown special field "\$ID"; did you mean "\$id"\?/,
      },
      {
        name: 'predicate not an object',
        spec: broken((s) => (s.stages['opted-in'].where = 'optIn == true')),
        path: 'stages.opted-in.where',
        message: /must be a predicate object, not a string; write \{ field, op, value \}/,
      },
      {
        name: 'missing value',
        spec: broken((s) => (s.stages['opted-in'].where = { field: 'optIn', op: 'eq' })),
        path: 'stages.opted-in.where.value',
        message: /missing value/,
      },
      {
        name: 'eq with a list',
        spec: broken((s) => (s.stages['opted-in'].where = { field: 'optIn', op: 'eq', value: [true] })),
        path: 'stages.opted-in.where.value',
        message: /not an array; use op "in"/,
      },
      {
        name: 'in without a list',
        spec: broken((s) => (s.stages['opted-in'].where = { field: 'channel', op: 'in', value: 'email' })),
        path: 'stages.opted-in.where.value',
        message: /"in" needs a list of values, not a string; e\.g\. value: \["email"\]/,
      },
      {
        name: 'in with an object',
        spec: broken((s) => (s.stages['opted-in'].where = { field: 'channel', op: 'in', value: ['a', {}] })),
        path: 'stages.opted-in.where.value[1]',
        message: /must be a string, number, boolean or null/,
      },
      {
        name: 'gt with a boolean',
        spec: broken((s) => (s.stages['opted-in'].where = { field: 'age', op: 'gt', value: true })),
        path: 'stages.opted-in.where.value',
        message: /"gt" compares numbers or strings, not a boolean/,
      },
      {
        name: 'exists with a value',
        spec: broken((s) => (s.stages['opted-in'].where = { field: 'optIn', op: 'exists', value: false })),
        path: 'stages.opted-in.where.value',
        message: /exists takes no value; remove "value".*not/,
      },
      {
        name: 'invalid regular expression',
        spec: broken((s) => (s.stages['opted-in'].where = { field: 'email', op: 'matches', value: '(@example' })),
        path: 'stages.opted-in.where.value',
        message: /is not a valid regular expression/,
      },
      {
        name: 'empty any',
        spec: broken((s) => (s.stages['opted-in'].where = { any: [] })),
        path: 'stages.opted-in.where.any',
        message: /is empty \(never true\); list at least one predicate/,
      },
      {
        name: 'nested problem',
        spec: broken(
          (s) => (s.stages['opted-in'].where = { all: [{ field: 'a', op: 'exists' }, { not: { field: 'b' } }] }),
        ),
        path: 'stages.opted-in.where.all[1].not.op',
        message: /missing op; set op to one of/,
      },
      {
        name: 'mixed predicate',
        spec: broken((s) => (s.stages['opted-in'].where = { all: [], field: 'a', op: 'exists' })),
        path: 'stages.opted-in.where',
        message: /mixes all, field, op; a predicate is exactly one of/,
      },
      {
        name: 'unknown predicate property',
        spec: broken((s) => (s.stages['opted-in'].where = { field: 'a', op: 'eq', valu: 1, value: 1 })),
        path: 'stages.opted-in.where.valu',
        message: /unknown property "valu"; did you mean "value"\?/,
      },
      {
        name: 'zero shards',
        spec: broken((s) => (s.stages.enrich.shards = 0)),
        path: 'stages.enrich.shards',
        message:
          /must be at least 1 \(got 0\); shard k runs on task queue "enrich-shard-<k>"; use 1 for a single queue/,
      },
      {
        name: 'fractional shards',
        spec: broken((s) => (s.stages.enrich.shards = 2.5)),
        path: 'stages.enrich.shards',
        message: /must be a whole number ≥ 1 \(got 2\.5\)/,
      },
      {
        name: 'shards as a string',
        spec: broken((s) => (s.stages.enrich.shards = '3')),
        path: 'stages.enrich.shards',
        message: /must be a number, not a string; write 3 without quotes/,
      },
      {
        name: 'missing shards',
        spec: broken((s) => delete s.stages.enrich.shards),
        path: 'stages.enrich.shards',
        message: /missing shards/,
      },
      {
        name: 'empty shard key',
        spec: broken((s) => (s.stages.enrich.key = '')),
        path: 'stages.enrich.key',
        message: /is empty; name the field to shard by, e\.g\. "\$id"/,
      },
      {
        name: 'missing shard key',
        spec: broken((s) => delete s.stages.enrich.key),
        path: 'stages.enrich.key',
        message: /missing key; name the field to shard by/,
      },
      {
        name: 'empty shard queue',
        spec: broken((s) => (s.stages.enrich.queue = ' ')),
        path: 'stages.enrich.queue',
        message: /is empty; shard k runs on "<queue>-shard-<k>"/,
      },
      {
        name: 'shard activity typo',
        spec: broken((s) => (s.stages.enrich.activity = 'noope')),
        path: 'stages.enrich.activity',
        message: /did you mean "noop"\?/,
      },
      {
        name: 'zero batch size',
        spec: broken((s) => (s.stages.email.batchSize = 0)),
        path: 'stages.email.batchSize',
        message: /must be at least 1 \(got 0\)/,
      },
      {
        name: 'fractional concurrency',
        spec: broken((s) => (s.concurrency = 1.5)),
        path: 'concurrency',
        message: /must be a whole number ≥ 1 \(got 1\.5\); e\.g\. 2/,
      },
      {
        name: 'negative partition size',
        spec: broken((s) => (s.partitionSize = -10)),
        path: 'partitionSize',
        message: /must be at least 1 \(got -10\)/,
      },
      {
        name: 'tolerated failure percent above 100',
        spec: broken((s) => (s.toleratedFailurePercent = 150)),
        path: 'toleratedFailurePercent',
        message: /must be from 0 to 100 \(got 150\)/,
      },
      {
        name: 'empty activity queue',
        spec: broken((s) => (s.activityQueue = '')),
        path: 'activityQueue',
        message: /is empty/,
      },
      {
        name: 'empty task queue',
        spec: broken((s) => (s.stages.email.taskQueue = '')),
        path: 'stages.email.taskQueue',
        message: /is empty; or omit it for the pipeline's activity queue/,
      },
      {
        name: 'timeout typo',
        spec: broken((s) => (s.stages.audit.timeout = '5 minuts')),
        path: 'stages.audit.timeout',
        message: /"5 minuts" is not a duration; write a number and a unit, e\.g\. "500 ms", "30 seconds"/,
      },
      {
        name: 'timeout as a number',
        spec: broken((s) => (s.stages.audit.timeout = 500)),
        path: 'stages.audit.timeout',
        message: /must be a duration string, not a number; write "500 ms" for milliseconds/,
      },
      {
        name: 'zero timeout',
        spec: broken((s) => (s.stages.audit.timeout = '0s')),
        path: 'stages.audit.timeout',
        message: /must be longer than 0/,
      },
      {
        name: 'retry interval typo',
        spec: broken((s) => ((s.stages.enrich.retry as Record<string, unknown>).initialInterval = '1 sec.')),
        path: 'stages.enrich.retry.initialInterval',
        message: /is not a duration/,
      },
      {
        name: 'maximum interval below initial interval',
        spec: broken((s) => ((s.stages.enrich.retry as Record<string, unknown>).maximumInterval = '500ms')),
        path: 'stages.enrich.retry.maximumInterval',
        message: /"500ms" is shorter than initialInterval "1 second"; make it at least as long/,
      },
      {
        name: 'maximum interval below the default initial interval',
        spec: broken((s) => (s.stages.email.retry = { maximumInterval: '100 ms' })),
        path: 'stages.email.retry.maximumInterval',
        message: /shorter than the default initialInterval \(1 second\)/,
      },
      {
        name: 'backoff coefficient below 1',
        spec: broken((s) => ((s.stages.enrich.retry as Record<string, unknown>).backoffCoefficient = 0.5)),
        path: 'stages.enrich.retry.backoffCoefficient',
        message: /must be at least 1 \(got 0\.5\)/,
      },
      {
        name: 'zero maximum attempts',
        spec: broken((s) => ((s.stages.enrich.retry as Record<string, unknown>).maximumAttempts = 0)),
        path: 'stages.enrich.retry.maximumAttempts',
        message: /must be at least 1 \(got 0\); omit maximumAttempts for unlimited attempts/,
      },
      {
        name: 'fractional maximum attempts',
        spec: broken((s) => ((s.stages.enrich.retry as Record<string, unknown>).maximumAttempts = 2.5)),
        path: 'stages.enrich.retry.maximumAttempts',
        message: /whole number/,
      },
      {
        name: 'unknown retry property',
        spec: broken((s) => ((s.stages.enrich.retry as Record<string, unknown>).maxAttempts = 3)),
        path: 'stages.enrich.retry.maxAttempts',
        message: /unknown retry property "maxAttempts"; did you mean "maximumAttempts"\?/,
      },
      {
        name: 'non-retryable error types not a list',
        spec: broken((s) => (s.stages.email.retry = { nonRetryableErrorTypes: 'InvalidInput' })),
        path: 'stages.email.retry.nonRetryableErrorTypes',
        message: /must be a list of error type names.*\["InvalidInput"\]/,
      },
      {
        name: 'unreachable stage',
        spec: broken((s) => (s.stages.orphan = { kind: 'activity', activity: 'noop' })),
        path: 'stages.orphan',
        message: /^stage "orphan" is never reached from start "enrich"; connect it or remove it$/,
      },
      {
        name: 'stage property typo',
        spec: broken((s) => {
          s.stages.audit.nxt = s.stages.audit.next;
          delete s.stages.audit.next;
        }),
        path: 'stages.audit.nxt',
        message:
          /unknown property "nxt" for an activity stage; did you mean "next"\? Allowed properties: kind, activity, next, taskQueue, retry, batchSize, timeout/,
      },
      {
        name: 'reduce with next',
        spec: broken((s) => (s.stages.report.next = 'done')),
        path: 'stages.report.next',
        message: /a reduce stage ends the path \(its aggregate is the run's result\); remove "next"/,
      },
      {
        name: 'reduce with an empty field name',
        spec: broken((s) => (s.stages.report.sum = ['bytes', ''])),
        path: 'stages.report.sum[1]',
        message: /is empty; name a field of the item data/,
      },
      {
        name: 'reduce histogram not a list',
        spec: broken((s) => (s.stages.report.histogram = 'channel')),
        path: 'stages.report.histogram',
        message: /must be a list of field names, not a string/,
      },
    ];

    for (const { name, spec, path: expectedPath, message } of cases) {
      it(`reports ${name} at ${expectedPath || '(spec)'}`, () => {
        const problems = problemsOf(spec);
        const atPath = problems.filter((p) => p.path === expectedPath);
        assert.ok(
          atPath.some((p) => message.test(p.message)),
          `no problem at "${expectedPath}" matching ${message}; got:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
        );
      });
    }

    it('reports only the problem made, not follow-on noise', () => {
      const problems = problemsOf(broken((s) => (s.stages['opted-in'].kind = 'filtr')));
      assert.deepEqual(
        problems.map((p) => p.path),
        ['stages.opted-in.kind'],
        'the stages behind a stage of unknown kind are still reachable',
      );
      assert.equal(problemsOf(broken((s) => (s.stages.email.next = 'don'))).length, 1);
    });

    it('reports every problem at once, one line each, in the error message', () => {
      const spec = broken((s) => {
        s.name = 'notify';
        s.stages.email.activity = 'emale';
        s.stages.enrich.shards = 0;
        s.stages.notify.default = 'othr';
        s.stages['opted-in'].where = { field: 'optIn', op: 'equals', value: true };
        s.stages.audit.timeout = 'soon';
        s.toleratedFailurePercent = -1;
      });
      let error: unknown;
      try {
        validatePipelineSpec(spec);
      } catch (caught) {
        error = caught;
      }
      assert.ok(error instanceof PipelineSpecError);
      assert.equal(error.specName, 'notify');
      assert.deepEqual(error.problems.map((p) => p.path).sort(), [
        'stages.audit.timeout',
        'stages.email.activity',
        'stages.enrich.shards',
        'stages.notify.default',
        'stages.opted-in.where.op',
        'toleratedFailurePercent',
      ]);
      const lines = error.message.split('\n');
      assert.equal(lines[0], 'Pipeline spec "notify" is invalid:');
      assert.equal(lines.length, 7);
      assert.ok(
        lines.includes(
          '  - stages.notify.default: unknown stage "othr"; did you mean "other"? Stages are: ' +
            Object.keys(notify.stages).join(', '),
        ),
      );
      for (const line of lines.slice(1)) assert.match(line, /^ {2}- [\w.[\]-]+: \S/);
    });

    it('names no spec when it has no name', () => {
      assert.throws(
        () => validatePipelineSpec(42),
        (error: Error) => error.message.startsWith('Pipeline spec is invalid:\n  - (spec): '),
      );
    });

    describe('cycles', () => {
      it('reports a cycle with the edge that closes it', () => {
        const problems = problemsOf({
          name: 'loop',
          start: 'a',
          stages: {
            a: { kind: 'activity', activity: 'noop', next: 'b' },
            b: { kind: 'filter', where: { field: 'x', op: 'exists' }, next: 'c' },
            c: { kind: 'split', routes: [{ when: { field: 'y', op: 'exists' }, to: 'b' }], default: 'd' },
            d: { kind: 'reduce' },
          },
        });
        assert.deepEqual(problems, [
          {
            path: 'stages.c.routes[0].to',
            message:
              'cycle b → c → b: pipelines must be acyclic; point "c" at a stage further on, or end the path there',
          },
        ]);
      });

      it('reports a stage that goes to itself, and cycles no item can reach', () => {
        const problems = problemsOf({
          name: 'loops',
          start: 'a',
          stages: {
            a: { kind: 'join', next: 'a' },
            x: { kind: 'copy', to: ['y', 'z'] },
            y: { kind: 'join', next: 'x' },
            z: { kind: 'reduce' },
          },
        });
        const cycles = problems.filter((p) => p.message.startsWith('cycle'));
        assert.deepEqual(
          cycles.map((p) => [p.path, p.message.split(':')[0]]),
          [
            ['stages.a.next', 'cycle a → a'],
            ['stages.y.next', 'cycle x → y → x'],
          ],
        );
        assert.deepEqual(
          problems.filter((p) => p.message.includes('never reached')).map((p) => p.path),
          ['stages.x', 'stages.y', 'stages.z'],
        );
      });

      it('accepts diamonds (two paths to one stage are not a cycle)', () => {
        validatePipelineSpec({
          name: 'diamond',
          start: 'fan',
          stages: {
            fan: { kind: 'copy', to: ['left', 'right'] },
            left: { kind: 'activity', activity: 'noop', next: 'join' },
            right: { kind: 'activity', activity: 'noop', next: 'join' },
            join: { kind: 'join' },
          },
        });
      });
    });

    describe('typo suggestions', () => {
      const table: [string, string[], string | undefined][] = [
        ['emial', ['email', 'sms'], 'email'],
        ['Email', ['email', 'sms'], 'email'],
        ['sns', ['email', 'sms'], 'sms'],
        ['anotate', stageActivityNames.slice(), 'annotate'],
        ['failwhen', stageActivityNames.slice(), 'fail-when'],
        ['shrad', ['filter', 'split', 'shard'], 'shard'],
        ['sendmail', ['email', 'sms'], undefined],
        ['x', ['email', 'sms'], undefined],
      ];
      for (const [name, candidates, expected] of table) {
        it(`suggests ${expected ?? 'nothing'} for "${name}"`, () => {
          assert.equal(closestMatch(name, candidates), expected);
        });
      }

      it('lists the known names when nothing is close', () => {
        const [problem] = problemsOf(broken((s) => (s.stages.email.next = 'finish')));
        assert.equal(problem.message, `unknown stage "finish". Stages are: ${Object.keys(notify.stages).join(', ')}`);
      });

      it('checks activities against the list the caller passes', () => {
        const spec = broken((s) => (s.stages.email.activity = 'send-email'));
        assert.deepEqual(pipelineSpecProblems(spec, [...stageActivityNames, 'send-email']), []);
        assert.match(
          pipelineSpecProblems(clone(notify), ['noop', 'send-email'])[0].message,
          /unknown activity "annotate"\. Activities are: noop, send-email/,
        );
      });
    });

    it('lists the stages an item can go to', () => {
      const spec = validatePipelineSpec(clone(notify));
      assert.deepEqual(stageTargets(spec.stages.notify), ['email', 'sms', 'other']);
      assert.deepEqual(stageTargets(spec.stages['fan-out']), ['opted-in', 'audit']);
      assert.deepEqual(stageTargets(spec.stages.done), ['report']);
      assert.deepEqual(stageTargets(spec.stages.report), []);
    });

    it('knows what lies upstream of a stage and what is reached from one', () => {
      const spec = validatePipelineSpec(clone(notify));
      const successors = specSuccessors(spec);
      const upstream = upstreamOf(Object.keys(spec.stages), successors);
      assert.deepEqual([...upstream.get('done')!].sort(), [
        'audit',
        'email',
        'enrich',
        'fan-out',
        'notify',
        'opted-in',
        'other',
        'sms',
      ]);
      assert.deepEqual([...upstream.get('enrich')!], []);
      assert.deepEqual([...upstream.get('notify')!].sort(), ['enrich', 'fan-out', 'opted-in']);
      assert.deepEqual([...reachableFrom('notify', successors)], ['notify', 'email', 'sms', 'other', 'done', 'report']);
    });
  });

  describe('predicates', () => {
    const item: PipelineItem = {
      id: 'user-42',
      origin: 'crm',
      data: {
        optIn: true,
        channel: 'email',
        age: 37,
        score: 0,
        nothing: null,
        name: 'Ada Lovelace',
        user: { email: 'ada@example.com', address: { city: 'London' } },
        tags: ['vip', 'beta'],
      },
    };

    it('reads fields', () => {
      assert.equal(fieldValue(item, '$id'), 'user-42');
      assert.equal(fieldValue(item, '$origin'), 'crm');
      assert.equal(fieldValue({ id: 'x', data: {} }, '$origin'), undefined);
      assert.equal(fieldValue(item, 'user.email'), 'ada@example.com');
      assert.equal(fieldValue(item, 'user.address.city'), 'London');
      assert.equal(fieldValue(item, 'tags.1'), 'beta');
      assert.equal(fieldValue(item, 'nothing'), null);
      assert.equal(fieldValue(item, 'nothing.deeper'), undefined);
      assert.equal(fieldValue(item, 'user.phone'), undefined);
      assert.equal(fieldValue(item, 'age.value'), undefined);
      assert.equal(fieldValue(item, 'constructor'), undefined, 'no prototype properties');
      assert.equal(fieldValue(item, 'user.__proto__'), undefined);
      assert.equal(fieldValue(item, 'tags.length'), undefined);
    });

    const table: [string, Predicate, boolean][] = [
      ['eq on a boolean', { field: 'optIn', op: 'eq', value: true }, true],
      ['eq is strict', { field: 'age', op: 'eq', value: '37' as never }, false],
      ['eq null', { field: 'nothing', op: 'eq', value: null }, true],
      ['eq on a missing field', { field: 'missing', op: 'eq', value: null }, false],
      ['ne', { field: 'channel', op: 'ne', value: 'sms' }, true],
      ['ne on a missing field', { field: 'missing', op: 'ne', value: 'sms' }, true],
      ['gt on numbers', { field: 'age', op: 'gt', value: 18 }, true],
      ['gt on equal numbers', { field: 'age', op: 'gt', value: 37 }, false],
      ['gte on equal numbers', { field: 'age', op: 'gte', value: 37 }, true],
      ['lt on numbers', { field: 'score', op: 'lt', value: 1 }, true],
      ['lte on numbers', { field: 'age', op: 'lte', value: 36 }, false],
      ['gt on strings', { field: 'name', op: 'gt', value: 'Ada' }, true],
      ['lt on strings (code units: upper before lower)', { field: 'name', op: 'lt', value: 'ada' }, true],
      ['gt number against a string', { field: 'age', op: 'gt', value: '1' }, false],
      ['lt string against a number', { field: 'name', op: 'lt', value: 100 }, false],
      ['gt on a missing field', { field: 'missing', op: 'gt', value: 0 }, false],
      ['lte null', { field: 'nothing', op: 'lte', value: 0 }, false],
      ['in', { field: 'channel', op: 'in', value: ['sms', 'email'] }, true],
      ['in, not listed', { field: 'channel', op: 'in', value: ['sms', 'push'] }, false],
      ['in is strict', { field: 'age', op: 'in', value: ['37'] }, false],
      ['in with null', { field: 'nothing', op: 'in', value: [null] }, true],
      ['exists', { field: 'user.email', op: 'exists' }, true],
      ['exists on null', { field: 'nothing', op: 'exists' }, true],
      ['exists on a missing field', { field: 'user.phone', op: 'exists' }, false],
      ['exists on $origin', { field: '$origin', op: 'exists' }, true],
      ['dotted eq', { field: 'user.address.city', op: 'eq', value: 'London' }, true],
      ['$id eq', { field: '$id', op: 'eq', value: 'user-42' }, true],
      ['$id matches', { field: '$id', op: 'matches', value: '^user-\\d+$' }, true],
      ['$origin in', { field: '$origin', op: 'in', value: ['crm', 'web'] }, true],
      ['matches', { field: 'user.email', op: 'matches', value: '@example\\.com$' }, true],
      ['matches is case-sensitive', { field: 'name', op: 'matches', value: '^ada' }, false],
      ['matches a number', { field: 'age', op: 'matches', value: '37' }, false],
      ['matches a missing field', { field: 'missing', op: 'matches', value: '.*' }, false],
      ['not', { not: { field: 'optIn', op: 'eq', value: true } }, false],
      [
        'all',
        {
          all: [
            { field: 'optIn', op: 'eq', value: true },
            { field: 'age', op: 'gte', value: 18 },
          ],
        },
        true,
      ],
      [
        'all, one fails',
        {
          all: [
            { field: 'optIn', op: 'eq', value: true },
            { field: 'age', op: 'lt', value: 18 },
          ],
        },
        false,
      ],
      [
        'any',
        {
          any: [
            { field: 'channel', op: 'eq', value: 'sms' },
            { field: 'tags.0', op: 'eq', value: 'vip' },
          ],
        },
        true,
      ],
      [
        'any, none holds',
        {
          any: [
            { field: 'channel', op: 'eq', value: 'sms' },
            { field: 'missing', op: 'exists' },
          ],
        },
        false,
      ],
      [
        'nested',
        {
          all: [
            {
              not: {
                any: [
                  { field: '$origin', op: 'eq', value: 'test' },
                  { field: 'optIn', op: 'ne', value: true },
                ],
              },
            },
            {
              any: [
                { field: 'user.email', op: 'matches', value: '@example\\.' },
                { field: 'age', op: 'gt', value: 99 },
              ],
            },
          ],
        },
        true,
      ],
    ];
    for (const [name, predicate, expected] of table) {
      it(`${name}: ${expected}`, () => {
        assert.deepEqual(predicateProblems(predicate, 'where'), [], 'the table only holds valid predicates');
        assert.equal(evaluate(predicate, item), expected);
      });
    }

    it('checks untrusted predicates with their paths', () => {
      assert.deepEqual(predicateProblems({ field: 'a', op: 'exists' }, 'where'), []);
      assert.deepEqual(
        predicateProblems(
          { any: [{ field: '', op: 'eq', value: 1 }, null, { not: { field: 'x', op: 'gt' } }] },
          'w',
        ).map((p) => p.path),
        ['w.any[0].field', 'w.any[1]', 'w.any[2].not.value'],
      );
      const deep: Record<string, unknown> = { field: 'a', op: 'exists' };
      let nested: Record<string, unknown> = deep;
      for (let i = 0; i < 40; i++) nested = { not: nested };
      assert.match(predicateProblems(nested, 'w')[0].message, /nested more than 32 levels/);
    });
  });

  describe('parseDuration', () => {
    const table: [string, number | undefined][] = [
      ['500 ms', 500],
      ['500ms', 500],
      ['1 millisecond', 1],
      ['1 second', 1000],
      ['2 seconds', 2000],
      ['10s', 10_000],
      ['1.5s', 1500],
      ['.5s', 500],
      ['5 minutes', 300_000],
      ['5 mins', 300_000],
      ['5m', 300_000],
      ['2 hours', 7_200_000],
      ['2h', 7_200_000],
      ['2 hrs', 7_200_000],
      ['3 days', 259_200_000],
      ['1d', 86_400_000],
      ['1 week', 604_800_000],
      ['1y', 31_557_600_000],
      ['2 Hours', 7_200_000],
      ['250', 250],
      ['0', 0],
      ['-1s', -1000],
      ['', undefined],
      ['soon', undefined],
      ['5 minuts', undefined],
      ['1 sec.', undefined],
      [' 1s', undefined],
      ['1s ', undefined],
      ['1 month', undefined],
      ['1,5s', undefined],
      ['1e3', undefined],
      ['1'.repeat(101), undefined],
    ];
    for (const [text, expected] of table) {
      it(`${JSON.stringify(text.length > 20 ? `${text.slice(0, 10)}…` : text)} → ${expected}`, () => {
        assert.equal(parseDuration(text), expected);
        const viaMs = text === '' || text.length > 100 ? NaN : msParse(text);
        assert.equal(parseDuration(text), Number.isNaN(viaMs) ? undefined : viaMs, 'agrees with the ms package');
      });
    }
  });

  describe('spec files', () => {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-spec-'))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('names the file and line of a YAML syntax error', () => {
      const text = 'name: broken\nstart: a\nstages:\n  a: { kind: join\n  b: 1\n';
      assert.throws(
        () => parsePipelineSpec(text, 'pipelines/broken.yaml'),
        (error: unknown) => {
          assert.ok(error instanceof PipelineSpecParseError);
          assert.equal(error.fileName, 'pipelines/broken.yaml');
          assert.equal(typeof error.line, 'number');
          assert.match(error.message, /^Cannot parse pipeline spec pipelines\/broken\.yaml:\d+:\d+: invalid YAML: /);
          return true;
        },
      );
      assert.throws(
        () => parsePipelineSpec('name: x\nstart: a\nstart: b\n', 'dup.yml'),
        /^PipelineSpecParseError: Cannot parse pipeline spec dup\.yml:3:1: invalid YAML: Map keys must be unique/,
      );
    });

    it('names the file and line of a JSON syntax error', () => {
      assert.throws(
        () => parsePipelineSpec('{\n  "name": "x",\n  "start": "a",\n}\n', 'spec.json'),
        /^PipelineSpecParseError: Cannot parse pipeline spec spec\.json:4:1: invalid JSON: /,
      );
    });

    it('reads JSON with any extension, YAML otherwise', () => {
      const json = JSON.stringify({ name: 'j', start: 'a', stages: { a: { kind: 'join' } } });
      assert.equal(parsePipelineSpec(json, 'spec.txt').name, 'j');
      assert.equal(parsePipelineSpec('name: y\nstart: a\nstages:\n  a: { kind: join }\n', 'spec.yml').name, 'y');
    });

    it('lists validation problems with the file and their lines', () => {
      const file = path.join(dir, 'typo.yaml');
      fs.writeFileSync(
        file,
        [
          'name: typo',
          'start: check',
          'stages:',
          '  check:',
          '    kind: filter',
          '    where: { field: optIn, op: eq, value: true }',
          '    next: emial',
          '  email:',
          '    kind: activity',
          '    activity: anotate',
          '',
        ].join('\n'),
      );
      assert.throws(
        () => loadPipelineSpecFile(file),
        (error: unknown) => {
          assert.ok(error instanceof PipelineSpecError);
          assert.equal(error.source, file);
          assert.deepEqual(
            error.problems.map((p) => [p.path, p.line]),
            [
              ['stages.check.next', 7],
              ['stages.email.activity', 10],
            ],
          );
          assert.equal(
            error.message.split('\n').slice(0, 2).join('\n'),
            `Pipeline spec "typo" in ${file} is invalid:\n  - stages.check.next (line 7): unknown stage "emial"; did you mean "email"? Stages are: check, email`,
          );
          return true;
        },
      );
    });

    it('names a file it cannot read', () => {
      const file = path.join(dir, 'missing.yaml');
      assert.throws(
        () => loadPipelineSpecFile(file),
        new RegExp(`^Error: Cannot read pipeline spec ${file.replace(/[.\\]/g, '\\$&')}: ENOENT`),
      );
    });

    it('rejects an empty file', () => {
      assert.throws(
        () => parsePipelineSpec('', 'empty.yaml'),
        /Pipeline spec in empty\.yaml is invalid:\n {2}- \(spec\): must be an object/,
      );
    });
  });

  describe('workflow safety', () => {
    for (const file of [
      'pipelines/activity-names.ts',
      'pipelines/did-you-mean.ts',
      'core/duration.ts',
      'pipelines/predicate.ts',
      'pipelines/item-text.ts',
      'pipelines/validate.ts',
      'pipelines/validate-common.ts',
      'pipelines/validate-graph.ts',
      'pipelines/validate-retry.ts',
      'pipelines/validate-stage.ts',
      'pipelines/stage-graph.ts',
      'pipelines/builder.ts',
    ]) {
      it(`${file} imports only pure modules and uses no clock, randomness or I/O`, () => {
        const source = fs.readFileSync(path.join(__dirname, '..', 'src', file), 'utf8');
        const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
        // Its own folder and src/core (pure types and durations); re2js: pure JavaScript, no Node
        // built-ins (the linear-time engine of `matches`).
        for (const module of imports) {
          assert.match(module, /^(\.\/[\w-]+|\.\.\/core\/[\w-]+|re2js)$/, `${file} imports ${module}`);
        }
        assert.doesNotMatch(source, /\brequire\(|Date\.now|new Date\(|Math\.random|process\.|setTimeout|localeCompare/);
      });
    }
  });
});
