/**
 * fastify's `schemaErrorFormatter`: Ajv's errors for a request (Ajv runs with `allErrors` and
 * `verbose`, so each error carries the value and the schema it failed) as one 400 that lists
 * every problem with its place in the body (`items[2].id`), what is allowed, and a did-you-mean
 * for an unknown property.
 */
import type { FastifySchemaValidationError } from 'fastify/types/schema';
import { didYouMean } from '../pipelines/did-you-mean';
import { show, typeName } from '../pipelines/predicate';
import { ApiError } from './errors';

/** An Ajv error as `verbose: true` makes it: with the value and the schema it failed. */
interface VerboseError extends FastifySchemaValidationError {
  data?: unknown;
  parentSchema?: { description?: string; properties?: Record<string, unknown> };
}

/** Problems listed in one answer; a body with more gets the first ones and their count. */
const maxListed = 50;

/** `items[2].id`, `source.path`: a key as JS would write it, quoted when it is no identifier. */
function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const name = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${name}` : name;
}

const unescape = (segment: string) => segment.replace(/~1/g, '/').replace(/~0/g, '~');

/**
 * The place of an error's value: its instance path (a JSON pointer) read along its schema path,
 * which says at each step whether the pointer enters an array (`items`) or an object.
 */
function placeOf(error: FastifySchemaValidationError): string {
  const instance = error.instancePath.split('/').slice(1).map(unescape);
  const schema = error.schemaPath.replace(/^#\/?/, '').split('/');
  let path = '';
  let i = 0;
  for (let s = 0; s < schema.length && i < instance.length; s++) {
    const step = schema[s];
    if (step === 'properties' || step === 'patternProperties') s++; // the next step names the key or pattern
    if (step === 'items') path = child(path, Number(instance[i++]));
    else if (step === 'properties' || step === 'patternProperties' || step === 'additionalProperties')
      path = child(path, instance[i++]);
  }
  // Whatever the schema path did not explain (it should not happen): as keys.
  for (; i < instance.length; i++) path = child(path, instance[i]);
  return path;
}

const article = (type: string) =>
  type === 'integer' ? 'a whole number' : `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;

/** One problem in the API's words: `<place>: <what is wrong and what is allowed>`. */
function problem(error: VerboseError): string {
  const path = placeOf(error);
  const at = path || '(body)';
  const { data, params } = error;
  const description = error.parentSchema?.description;
  const limit = params.limit as number;
  switch (error.keyword) {
    case 'type':
      return `${at}: must be ${article(String(params.type))}, not ${typeName(data)}`;
    case 'required':
      return `${child(path, String(params.missingProperty))}: is missing`;
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys(error.parentSchema?.properties ?? {});
      return `${child(path, key)}: unknown property${didYouMean(key, known)}${known.length ? ` Allowed: ${known.join(', ')}` : ''}`;
    }
    case 'enum':
      return `${at}: ${show(data)} is not one of ${(params.allowedValues as unknown[]).map((v) => show(v)).join(', ')}`;
    case 'pattern':
      return `${at}: ${show(data)} is not allowed here; ${description ?? `it must match ${String(params.pattern)}`}`;
    case 'minLength':
      return limit === 1
        ? `${at}: must not be empty${description ? ` (${description})` : ''}`
        : `${at}: needs at least ${limit} characters`;
    case 'maxLength':
      return `${at}: is ${String(data).length} characters long; at most ${limit} are allowed`;
    case 'minItems':
      return `${at}: needs at least ${limit} element${limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `${at}: has ${(data as unknown[]).length} elements; at most ${limit} are allowed in one request`;
    default:
      return `${at}: ${error.message ?? `fails ${error.keyword}`}`;
  }
}

/** Ajv's errors of one part of a request (`body`, `params`) as the API's 400. */
export function validationError(errors: FastifySchemaValidationError[], part: string): ApiError {
  // A string is checked for one thing at a time (length, then pattern), as a person fixes it.
  const seen = new Set<string>();
  const firsts = errors.filter((e) => {
    if (!['minLength', 'maxLength', 'pattern'].includes(e.keyword)) return true;
    const first = !seen.has(e.instancePath);
    seen.add(e.instancePath);
    return first;
  });
  const lines = firsts.slice(0, maxListed).map((e) => `  - ${problem(e)}`);
  if (firsts.length > maxListed) lines.push(`  (and ${firsts.length - maxListed} more problems)`);
  const what = part === 'body' ? 'The request body' : `The request's ${part === 'params' ? 'path' : part}`;
  return new ApiError(400, 'BadRequest', `${what} is not valid:\n${lines.join('\n')}`);
}
