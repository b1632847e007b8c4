/**
 * Declarative predicates of filter and split stages: evaluated in workflow code (no activity, no
 * history events), so everything here is pure and deterministic: plain TypeScript, no Node
 * built-ins, no clock, no randomness, no I/O.
 */
import { RE2JS } from 're2js';
import { didYouMean } from './did-you-mean';
import type { Predicate, PipelineItem } from './spec';
import type { SpecProblem } from './spec-problem';

/** Fields that read the item itself rather than `item.data`. */
export const specialFields = ['$id', '$origin'] as const;

const comparisonOps = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const;
const orderingOps: readonly string[] = ['gt', 'gte', 'lt', 'lte'];
/** Every leaf operator, in the order messages list them. */
export const predicateOps = [...comparisonOps, 'in', 'has', 'exists', 'matches'] as const;

/** Operators people write out of habit, mapped to ours. */
const opAliases: Record<string, string> = {
  '=': 'eq',
  '==': 'eq',
  '===': 'eq',
  equals: 'eq',
  '!=': 'ne',
  '!==': 'ne',
  '<>': 'ne',
  neq: 'ne',
  '>': 'gt',
  '>=': 'gte',
  ge: 'gte',
  '<': 'lt',
  '<=': 'lte',
  le: 'lte',
  regex: 'matches',
  match: 'matches',
  exist: 'exists',
  oneOf: 'in',
  contains: 'has',
  includes: 'has',
};

/** Deepest nesting of all/any/not accepted (also stops runaway recursion on cyclic objects). */
const maxDepth = 32;

/** Whether `object` has `key` itself (not inherited, so `constructor` or `__proto__` do not count). */
export const hasOwn = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

/**
 * The value of `field` in an item: `$id` and `$origin` read `item.id` and `item.origin`; anything else
 * is a dotted path into `item.data` (`user.email`; array elements by index, `tags.0`). Only own
 * properties (and array indexes, not `length`) are followed, so `constructor` or `__proto__` never
 * reach into prototypes. Missing → undefined.
 */
export function fieldValue(item: PipelineItem, field: string): unknown {
  if (field === '$id') return item.id;
  if (field === '$origin') return item.origin;
  let value: unknown = item.data;
  for (const segment of field.split('.')) {
    if (typeof value !== 'object' || value === null || !hasOwn(value, segment)) return undefined;
    if (Array.isArray(value) && !/^\d+$/.test(segment)) return undefined; // not `length`
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/**
 * Compiled `matches` patterns: a predicate is evaluated once per item, the pattern compiled once.
 * RE2 (linear time) rather than RegExp: item data meets the spec's pattern in workflow code, and a
 * backtracking pattern such as `(a+)+$` on a long field would block the workflow task for minutes.
 */
const patternCache = new Map<string, RE2JS>();

function pattern(source: string): RE2JS {
  let regex = patternCache.get(source);
  if (!regex) {
    regex = RE2JS.compile(source);
    if (patternCache.size >= 256) patternCache.clear();
    patternCache.set(source, regex);
  }
  return regex;
}

/**
 * Whether `item` satisfies `predicate` (which validatePipelineSpec has checked):
 * - eq / ne: strict equality (`===`), so `1` is not `'1'`; a missing field is `undefined`, so `ne` holds;
 * - gt / gte / lt / lte: both numbers, or both strings (compared by UTF-16 code units, not locale); false otherwise;
 * - in: strictly equal to one of the values; exists: the field is not undefined (null exists);
 * - has: the field is an array with an element strictly equal to the value; false for anything else;
 * - matches: an RE2 search (like RegExp#test, linear time) on strings, false for anything else;
 * - all / any / not: and / or / negation (all of none is true, any of none is false).
 */
export function evaluate(predicate: Predicate, item: PipelineItem): boolean {
  if ('all' in predicate) return predicate.all.every((p) => evaluate(p, item));
  if ('any' in predicate) return predicate.any.some((p) => evaluate(p, item));
  if ('not' in predicate) return !evaluate(predicate.not, item);
  const actual = fieldValue(item, predicate.field);
  switch (predicate.op) {
    case 'eq':
      return actual === predicate.value;
    case 'ne':
      return actual !== predicate.value;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return compare(predicate.op, actual, predicate.value);
    case 'in':
      return predicate.value.some((value) => value === actual);
    case 'has':
      return Array.isArray(actual) && actual.some((element) => element === predicate.value);
    case 'exists':
      return actual !== undefined;
    case 'matches':
      return typeof actual === 'string' && pattern(predicate.value).matcher(actual).find();
    default:
      throw new Error(`invalid predicate ${JSON.stringify(predicate)}: validate the pipeline spec first`);
  }
}

function compare(op: 'gt' | 'gte' | 'lt' | 'lte', actual: unknown, expected: unknown): boolean {
  const comparable =
    (typeof actual === 'number' && typeof expected === 'number') ||
    (typeof actual === 'string' && typeof expected === 'string');
  if (!comparable) return false;
  const a = actual as number | string;
  const b = expected as number | string;
  switch (op) {
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
  }
}

/** A value as it would be written in a spec, for messages (short). */
export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `number`, `string`, `array`, `null`, `object`...: the JSON name of a value's type, for messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Problems with a field reference (predicate `field`, shard `key`): non-empty dotted path or `$id` / `$origin`. */
export function fieldProblems(field: unknown, path: string): SpecProblem[] {
  if (field === undefined) {
    return [{ path, message: 'missing field; name a field of the item data, e.g. "user.email", or "$id" / "$origin"' }];
  }
  if (typeof field !== 'string') {
    return [{ path, message: `must be a field name (a string), not ${typeName(field)}; e.g. "user.email"` }];
  }
  if (field === '') return [{ path, message: 'is empty; name a field of the item data, e.g. "user.email"' }];
  if (field.startsWith('$')) {
    if ((specialFields as readonly string[]).includes(field)) return [];
    return [
      {
        path,
        message: `unknown special field "${field}"${didYouMean(field, specialFields)} Special fields are: ${specialFields.join(', ')}; other fields are read from the item data without "$"`,
      },
    ];
  }
  if (field.split('.').some((segment) => segment === '')) {
    return [
      {
        path,
        message: `"${field}" has an empty segment; separate nested field names with single dots, e.g. "user.email"`,
      },
    ];
  }
  return [];
}

const isScalar = (value: unknown): boolean =>
  value === null ||
  typeof value === 'string' ||
  typeof value === 'boolean' ||
  (typeof value === 'number' && Number.isFinite(value));

const predicateShapes = 'write { field, op, value }, { all: [...] }, { any: [...] } or { not: {...} }';

/**
 * Structural problems of an untrusted predicate (from JSON/YAML), with `path` naming where it sits,
 * e.g. `stages.opted-in.where`. Empty when it is a valid {@link Predicate}.
 */
export function predicateProblems(predicate: unknown, path: string): SpecProblem[] {
  const problems: SpecProblem[] = [];
  check(predicate, path, 0, problems);
  return problems;
}

function check(predicate: unknown, path: string, depth: number, problems: SpecProblem[]): void {
  const add = (at: string, message: string) => problems.push({ path: at, message });
  if (depth > maxDepth) {
    add(path, `predicates are nested more than ${maxDepth} levels deep; flatten them with all/any`);
    return;
  }
  if (!isRecord(predicate)) {
    add(path, `must be a predicate object, not ${typeName(predicate)}; ${predicateShapes}`);
    return;
  }
  const keys = Object.keys(predicate).filter((key) => predicate[key] !== undefined);
  const combinators = keys.filter((key) => key === 'all' || key === 'any' || key === 'not');
  if (combinators.length > 1 || (combinators.length === 1 && ('field' in predicate || 'op' in predicate))) {
    const mixed = keys.filter((key) => ['all', 'any', 'not', 'field', 'op'].includes(key));
    add(path, `mixes ${mixed.join(', ')}; a predicate is exactly one of: ${predicateShapes} (nest them to combine)`);
    return;
  }
  if (combinators.length === 1) {
    const combinator = combinators[0];
    for (const key of keys) {
      if (key !== combinator)
        add(`${path}.${key}`, `unknown property "${key}"; a "${combinator}" predicate has only "${combinator}"`);
    }
    const operand = predicate[combinator];
    if (combinator === 'not') {
      check(operand, `${path}.not`, depth + 1, problems);
      return;
    }
    if (!Array.isArray(operand)) {
      add(`${path}.${combinator}`, `must be a list of predicates, not ${typeName(operand)}`);
    } else if (operand.length === 0) {
      add(
        `${path}.${combinator}`,
        `is empty (${combinator === 'all' ? 'always true' : 'never true'}); list at least one predicate or remove "${combinator}"`,
      );
    } else {
      operand.forEach((p, i) => check(p, `${path}.${combinator}[${i}]`, depth + 1, problems));
    }
    return;
  }

  // A leaf: { field, op, value? }.
  problems.push(...fieldProblems(predicate.field, `${path}.field`));
  const op = predicate.op;
  if (op === undefined) {
    add(`${path}.op`, `missing op; set op to one of: ${predicateOps.join(', ')}`);
    return;
  }
  if (typeof op !== 'string' || !(predicateOps as readonly string[]).includes(op)) {
    const alias = typeof op === 'string' && hasOwn(opAliases, op) ? opAliases[op] : undefined;
    const hint =
      alias !== undefined ? `; did you mean "${alias}"?` : typeof op === 'string' ? didYouMean(op, predicateOps) : '.';
    add(`${path}.op`, `unknown op ${show(op)}${hint} Ops are: ${predicateOps.join(', ')}`);
    return;
  }
  const allowed = op === 'exists' ? ['field', 'op'] : ['field', 'op', 'value'];
  for (const key of keys) {
    if (allowed.includes(key)) continue;
    if (key === 'value') {
      add(
        `${path}.value`,
        'exists takes no value; remove "value" (use { not: { field, op: "exists" } } for "is missing")',
      );
    } else {
      add(
        `${path}.${key}`,
        `unknown property "${key}"${didYouMean(key, allowed)} Allowed properties: ${allowed.join(', ')}`,
      );
    }
  }
  if (op === 'exists') return;
  const value = predicate.value;
  const valuePath = `${path}.value`;
  if (value === undefined) {
    const example =
      op === 'in' ? '["a", "b"]' : op === 'matches' ? '"^a.*z$"' : op === 'has' ? '"landscape"' : 'true, 42 or "text"';
    add(valuePath, `missing value; "${op}" compares the field with a value, e.g. value: ${example}`);
    return;
  }
  if (op === 'in') {
    if (!Array.isArray(value)) {
      add(valuePath, `"in" needs a list of values, not ${typeName(value)}; e.g. value: [${show(value)}]`);
    } else if (value.length === 0) {
      add(valuePath, 'is an empty list, so "in" never matches; list the accepted values');
    } else {
      value.forEach((v, i) => {
        if (!isScalar(v)) add(`${valuePath}[${i}]`, `must be a string, number, boolean or null, not ${typeName(v)}`);
      });
    }
  } else if (op === 'matches') {
    if (typeof value !== 'string') {
      add(valuePath, `"matches" needs a regular expression string, not ${typeName(value)}`);
    } else {
      try {
        RE2JS.compile(value);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        add(
          valuePath,
          `${show(value)} is not a valid regular expression (${reason}); fix it or escape special characters with \\ (RE2 syntax: no lookaround or backreferences)`,
        );
      }
    }
  } else if (orderingOps.includes(op)) {
    if (!(typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)))) {
      add(valuePath, `"${op}" compares numbers or strings, not ${typeName(value)}; use a number or a string value`);
    }
  } else if (op === 'has' && Array.isArray(value)) {
    add(
      valuePath,
      '"has" looks for one element, not a list; combine several "has" predicates with all (every one) or any (one of them)',
    );
  } else if (!isScalar(value)) {
    add(
      valuePath,
      `must be a string, number, boolean or null, not ${typeName(value)}${Array.isArray(value) ? '; use op "in" to match one of several values' : ''}`,
    );
  }
}
