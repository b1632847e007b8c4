/**
 * The subset of JSON Schema the API's bodies are written in, and its validator. The same schema
 * objects go into the OpenAPI document and check every request, so what the document says is
 * what the server accepts. Each problem names where it is (`items[2].id`) and what is allowed.
 */
import { didYouMean } from '../pipelines/did-you-mean';
import { isRecord, show, typeName } from '../pipelines/predicate';

export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  /** For people, and the hint of a `pattern` problem. */
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  /** false: only the listed properties; a schema: every other property's value. */
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: readonly (string | number | boolean)[];
  example?: unknown;
}

/** `items[2].id`, `source.path`; the body itself is `(body)`. */
function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const name = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${name}` : name;
}

function typeMatches(type: NonNullable<JsonSchema['type']>, value: unknown): boolean {
  switch (type) {
    case 'object':
      return isRecord(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}

/** Every problem of `value` against `schema` (empty when it conforms), each `<path>: <what is wrong>`. */
export function schemaProblems(schema: JsonSchema, value: unknown, path = ''): string[] {
  const at = path || '(body)';
  if (schema.type && !typeMatches(schema.type, value)) {
    const wanted =
      schema.type === 'integer'
        ? 'a whole number'
        : schema.type === 'array'
          ? 'an array'
          : `${schema.type === 'object' ? 'an' : 'a'} ${schema.type}`;
    return [`${at}: must be ${wanted}, not ${typeName(value)}`];
  }
  const problems: string[] = [];
  if (schema.enum && !schema.enum.includes(value as string)) {
    problems.push(`${at}: ${show(value)} is not one of ${schema.enum.map((v) => show(v)).join(', ')}`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      problems.push(`${at}: must not be empty${schema.description ? ` (${schema.description})` : ''}`);
    else if (schema.maxLength !== undefined && value.length > schema.maxLength)
      problems.push(`${at}: is ${value.length} characters long; at most ${schema.maxLength} are allowed`);
    else if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value))
      problems.push(
        `${at}: ${show(value)} is not allowed here; ${schema.description ?? `it must match ${schema.pattern}`}`,
      );
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      problems.push(`${at}: needs at least ${schema.minItems} element${schema.minItems === 1 ? '' : 's'}`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      problems.push(`${at}: has ${value.length} elements; at most ${schema.maxItems} are allowed in one request`);
    if (schema.items)
      value.forEach((element, i) => problems.push(...schemaProblems(schema.items!, element, child(path, i))));
  }
  if (isRecord(value)) {
    const known = Object.keys(schema.properties ?? {});
    for (const key of schema.required ?? []) {
      if (value[key] === undefined) problems.push(`${child(path, key)}: is missing`);
    }
    for (const [key, element] of Object.entries(value)) {
      // Own properties only: "__proto__" or "constructor" must not find Object.prototype's.
      const property = schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
      if (property) problems.push(...schemaProblems(property, element, child(path, key)));
      else if (schema.additionalProperties === false)
        problems.push(
          `${child(path, key)}: unknown property${didYouMean(key, known)}${known.length ? ` Allowed: ${known.join(', ')}` : ''}`,
        );
      else if (typeof schema.additionalProperties === 'object')
        problems.push(...schemaProblems(schema.additionalProperties, element, child(path, key)));
    }
  }
  return problems;
}
