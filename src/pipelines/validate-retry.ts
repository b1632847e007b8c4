/**
 * Checks of the retry policies and durations of activity and shard stages (see validate.ts).
 * Workflow code imports the validator, so this is pure and deterministic: plain TypeScript, no Node
 * built-ins, no clock, no randomness, no I/O.
 */
import { didYouMean } from './did-you-mean';
import { parseDuration } from '../core/duration';
import { isRecord, show, typeName } from './predicate';
import { positiveInteger, type Problems, setKeys } from './validate-common';

const retryProperties = [
  'initialInterval',
  'backoffCoefficient',
  'maximumInterval',
  'maximumAttempts',
  'nonRetryableErrorTypes',
] as const;

/** Temporal's default initial retry interval (1 second, in ms), which maximumInterval must not undercut. */
const defaultInitialInterval = 1000;

export function checkRetry(problems: Problems, path: string, retry: unknown): void {
  const { add } = problems;
  if (!isRecord(retry)) {
    add(path, `must be an object like { "initialInterval": "1 second", "maximumAttempts": 5 }, not ${typeName(retry)}`);
    return;
  }
  for (const key of setKeys(retry)) {
    if (!(retryProperties as readonly string[]).includes(key)) {
      add(
        `${path}.${key}`,
        `unknown retry property "${key}"${didYouMean(key, retryProperties)} Allowed properties: ${retryProperties.join(', ')}`,
      );
    }
  }
  const initial =
    retry.initialInterval === undefined
      ? undefined
      : checkDuration(problems, `${path}.initialInterval`, retry.initialInterval);
  const maximum =
    retry.maximumInterval === undefined
      ? undefined
      : checkDuration(problems, `${path}.maximumInterval`, retry.maximumInterval);
  if (maximum !== undefined && maximum < (initial ?? defaultInitialInterval)) {
    add(
      `${path}.maximumInterval`,
      initial === undefined
        ? `${show(retry.maximumInterval)} is shorter than the default initialInterval (1 second); raise it or set a shorter initialInterval`
        : `${show(retry.maximumInterval)} is shorter than initialInterval ${show(retry.initialInterval)}; make it at least as long`,
    );
  }
  const coefficient = retry.backoffCoefficient;
  if (coefficient !== undefined) {
    if (typeof coefficient !== 'number' || !Number.isFinite(coefficient)) {
      add(
        `${path}.backoffCoefficient`,
        `must be a number ≥ 1, not ${show(coefficient)}; e.g. 2 doubles the interval after each attempt`,
      );
    } else if (coefficient < 1) {
      add(
        `${path}.backoffCoefficient`,
        `must be at least 1 (got ${coefficient}); 1 keeps the interval constant, 2 doubles it`,
      );
    }
  }
  if (retry.maximumAttempts !== undefined) {
    positiveInteger(
      problems,
      `${path}.maximumAttempts`,
      retry.maximumAttempts,
      'omit maximumAttempts for unlimited attempts (the TypeScript SDK rejects 0)',
    );
  }
  const types = retry.nonRetryableErrorTypes;
  if (types !== undefined) {
    if (!Array.isArray(types)) {
      add(
        `${path}.nonRetryableErrorTypes`,
        `must be a list of error type names, not ${typeName(types)}; e.g. ["InvalidInput"]`,
      );
    } else {
      types.forEach((type, i) => {
        if (typeof type !== 'string' || type === '') {
          add(
            `${path}.nonRetryableErrorTypes[${i}]`,
            `must be a non-empty error type name, not ${show(type)}; e.g. "InvalidInput"`,
          );
        }
      });
    }
  }
}

/** Checks a duration; its milliseconds when valid. */
export function checkDuration(problems: Problems, path: string, value: unknown): number | undefined {
  const { add } = problems;
  const example = 'e.g. "500 ms", "30 seconds", "5 minutes", "2 hours"';
  if (typeof value !== 'string') {
    const hint = typeof value === 'number' ? `; write "${value} ms" for milliseconds` : '';
    add(path, `must be a duration string, not ${typeName(value)}${hint}; ${example}`);
    return undefined;
  }
  const ms = parseDuration(value);
  if (ms === undefined) {
    add(path, `${show(value)} is not a duration; write a number and a unit, ${example}`);
    return undefined;
  }
  if (ms <= 0) {
    add(path, `must be longer than 0 (got ${show(value)}); ${example}`);
    return undefined;
  }
  return ms;
}
