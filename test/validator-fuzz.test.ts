/**
 * Property-based fuzzing of the pipeline spec validator (src/pipelines/validate.ts), which takes
 * untrusted specs from files, the API and the workflow's own input: random specs of the shapes in
 * src/pipelines/spec.ts, the examples in pipelines/examples mutated, and hostile values. It either
 * returns the spec or throws a PipelineSpecError with a message — never another exception, never
 * a hang — and answers the same twice (workflow code runs it: it must be deterministic).
 * The seed is in the suite's title; FUZZ_SEED=<seed> replays a failure.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { stageActivityNames } from '../src/pipelines/activity-names';
import { predicateOps } from '../src/pipelines/predicate';
import { PipelineSpecError, pipelineSpecProblems, stageKinds, validatePipelineSpec } from '../src/pipelines/validate';
import { repoRoot } from '../src/infra/paths';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

const examplesDir = path.join(repoRoot, 'pipelines', 'examples');
const examples = fs
  .readdirSync(examplesDir)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .map((f) => parse(fs.readFileSync(path.join(examplesDir, f), 'utf8')) as Record<string, unknown>);

/** Values that have broken validators: prototype keys, toString traps, non-finite numbers, huge strings. */
const hostile = fc.constantFrom<unknown>(
  '__proto__',
  'constructor',
  'toString',
  { toString: 1 },
  { valueOf: 'x', toString: null },
  JSON.parse('{"__proto__": {"kind": "activity"}}'),
  Object.create(null),
  Object.assign(Object.create(null), { kind: 'join' }),
  [],
  [[]],
  new Array(3),
  NaN,
  Infinity,
  -Infinity,
  -0,
  1e308,
  2 ** 53 + 1,
  '',
  ' ',
  '\u0000',
  '\ud800',
  'x'.repeat(20_000),
  '(a+)+$',
  '[',
  null,
  true,
);

const anyValue = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: hostile },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
);

const stageName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'c', 'work', 'done') },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'bad name', '') },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const field = fc.oneof(
  fc.constantFrom('$id', '$origin', 'a', 'a.b', 'tags', '__proto__', 'constructor.name', '', '.', 'a..b'),
  fc.string({ maxLength: 6 }),
);
const scalar = fc.oneof(fc.string({ maxLength: 6 }), fc.double(), fc.boolean(), fc.constant(null), hostile);

const predicate: fc.Arbitrary<unknown> = fc.letrec<{ predicate: unknown }>((tie) => ({
  predicate: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record(
      {
        field,
        op: fc.oneof(fc.constantFrom(...predicateOps), anyValue),
        value: fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), anyValue),
      },
      { requiredKeys: [] },
    ),
    fc.record({ all: fc.oneof(fc.array(tie('predicate'), { maxLength: 3 }), anyValue) }),
    fc.record({ any: fc.oneof(fc.array(tie('predicate'), { maxLength: 3 }), anyValue) }),
    fc.record({ not: tie('predicate') }),
    anyValue,
  ),
})).predicate;

const retry = fc.oneof(
  fc.record(
    {
      initialInterval: fc.oneof(fc.constantFrom('1 second', '500 ms', '2 hours', '1e400 days', '-1 second'), anyValue),
      backoffCoefficient: fc.oneof(fc.double(), anyValue),
      maximumInterval: fc.oneof(fc.constantFrom('30 seconds', '0 ms', '99999999999 days'), anyValue),
      maximumAttempts: fc.oneof(fc.integer(), anyValue),
      nonRetryableErrorTypes: fc.oneof(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), anyValue),
    },
    { requiredKeys: [] },
  ),
  anyValue,
);
const duration = fc.oneof(fc.constantFrom('1 minute', '30 seconds', '25 days', '1000 years', 'soon', '1'), anyValue);
const activity = fc.oneof(fc.constantFrom(...stageActivityNames, 'nope'), anyValue);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: anyValue });

const stage = fc.oneof(
  fc.record(
    {
      kind: fc.constant('activity'),
      activity,
      taskQueue: maybe(fc.string({ maxLength: 8 })),
      retry,
      batchSize: maybe(fc.integer()),
      timeout: duration,
      next: stageName,
    },
    { requiredKeys: ['kind'] },
  ),
  fc.record({ kind: fc.constant('filter'), where: predicate, next: stageName }, { requiredKeys: ['kind'] }),
  fc.record(
    {
      kind: fc.constant('split'),
      routes: fc.oneof(fc.array(fc.record({ when: predicate, to: stageName }), { maxLength: 3 }), anyValue),
      default: stageName,
    },
    { requiredKeys: ['kind'] },
  ),
  fc.record(
    {
      kind: fc.constant('copy'),
      to: fc.oneof(fc.array(stageName, { maxLength: 3 }), anyValue),
      mode: maybe(fc.constantFrom('all', 'race')),
    },
    { requiredKeys: ['kind'] },
  ),
  fc.record(
    {
      kind: fc.constant('shard'),
      key: field,
      shards: maybe(fc.integer()),
      activity,
      queue: maybe(fc.string({ maxLength: 8 })),
      retry,
      batchSize: maybe(fc.integer()),
      timeout: duration,
      next: stageName,
    },
    { requiredKeys: ['kind'] },
  ),
  fc.record({ kind: fc.constant('join'), next: stageName }, { requiredKeys: ['kind'] }),
  fc.record(
    {
      kind: fc.constant('reduce'),
      sum: maybe(fc.array(field, { maxLength: 3 })),
      histogram: maybe(fc.array(field, { maxLength: 3 })),
      report: maybe(fc.record({ activity })),
    },
    { requiredKeys: ['kind'] },
  ),
  fc.record({ kind: fc.oneof(fc.constantFrom(...stageKinds, 'map'), anyValue) }, { requiredKeys: [] }),
  anyValue,
);

const spec = fc.record(
  {
    name: fc.oneof(fc.constantFrom('fuzz', 'a.b-c_d', 'bad name', ''), anyValue),
    description: maybe(fc.string({ maxLength: 20 })),
    start: stageName,
    stages: fc.oneof(
      { weight: 5, arbitrary: fc.dictionary(stageName, stage, { maxKeys: 6 }) },
      { weight: 1, arbitrary: anyValue },
    ),
    activityQueue: maybe(fc.string({ maxLength: 8 })),
    concurrency: maybe(fc.integer()),
    partitionSize: maybe(fc.integer()),
    toleratedFailurePercent: maybe(fc.double()),
  },
  { requiredKeys: [] },
);

/** A deep copy of `value` with the value at a random path replaced, deleted, or given an extra key. */
function mutate(value: unknown, choices: number[], replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let node: unknown = copy;
  for (const choice of choices) {
    if (typeof node !== 'object' || node === null) break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[choice % keys.length];
    const child = (node as Record<string, unknown>)[key];
    const action = choice % 7;
    if (typeof child !== 'object' || child === null || action === 0) {
      if (action === 1) delete (node as Record<string, unknown>)[key];
      else if (action === 2) Object.defineProperty(node, '__proto__', { value: replacement, enumerable: true });
      else if (action === 3) (node as Record<string, unknown>)[`${key}x`] = replacement;
      else (node as Record<string, unknown>)[key] = replacement;
      return copy;
    }
    node = child;
  }
  return copy;
}

const mutatedExample = fc
  .tuple(fc.constantFrom(...examples), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), anyValue)
  .map(([example, choices, replacement]) => mutate(example, choices, replacement));

/** A predicate (or a stage chain) nested far deeper than any spec would be. */
const deep = fc.tuple(fc.constantFrom(10, 100, 10_000), fc.constantFrom('not', 'all', 'any')).map(([depth, key]) => {
  let where: unknown = { field: 'a', op: 'exists' };
  for (let i = 0; i < depth; i++) where = key === 'not' ? { not: where } : { [key]: [where] };
  return { name: 'deep', start: 'f', stages: { f: { kind: 'filter', where } } };
});

const longChain = fc.constantFrom(100, 5000).map((n) => ({
  name: 'chain',
  start: 's0',
  stages: Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, { kind: 'join', next: `s${(i + 1) % n}` }])),
}));

/** Stage names and references tens of thousands of characters long, a letter apart. */
const longNames = fc.constantFrom(1000, 30_000).map((n) => ({
  name: 'long',
  start: `${'s'.repeat(n)}a`,
  stages: { [`${'s'.repeat(n)}b`]: { kind: 'join', next: `${'s'.repeat(n)}c` } },
}));

/** The property: a spec, or a PipelineSpecError with a message, the same way twice. */
function checkValidator(input: unknown): void {
  let outcome: string;
  try {
    const valid = validatePipelineSpec(input);
    assert.equal(valid, input, 'a valid spec is returned as given');
    assert.deepEqual(pipelineSpecProblems(input), []);
    outcome = 'valid';
  } catch (error) {
    if (!(error instanceof PipelineSpecError)) {
      const what = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error);
      assert.fail(`the validator threw something other than a PipelineSpecError: ${what}`);
    }
    assert.ok(error.problems.length > 0, 'a PipelineSpecError lists its problems');
    assert.ok(error.message.length > 0);
    for (const problem of error.problems) assert.equal(typeof problem.message, 'string');
    outcome = error.message;
  }
  let again: string;
  try {
    validatePipelineSpec(input);
    again = 'valid';
  } catch (error) {
    again = error instanceof Error ? error.message : String(error);
  }
  assert.equal(again, outcome, 'the same spec gets the same answer');
}

describe(`pipeline spec validator fuzzing (seed ${seed}; replay with FUZZ_SEED=${seed})`, () => {
  it('the examples are valid (the mutations start from valid specs)', () => {
    assert.ok(examples.length >= 3);
    for (const example of examples) validatePipelineSpec(example);
  });

  it('random specs of every stage kind: a spec or a PipelineSpecError, never another exception', () => {
    fc.assert(fc.property(spec, checkValidator), { numRuns: 2000, seed });
  });

  it('the examples mutated: a spec or a PipelineSpecError, never another exception', () => {
    fc.assert(fc.property(mutatedExample, checkValidator), { numRuns: 2000, seed });
  });

  it('any value at all, deep predicates, long stage chains and names', () => {
    fc.assert(fc.property(fc.oneof(anyValue, deep, longChain, longNames), checkValidator), { numRuns: 300, seed });
  });
});
