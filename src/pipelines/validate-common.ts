/**
 * What the parts of the pipeline spec validator (validate.ts) share: the list the problems go to,
 * stage paths, and checks of plain values (counts, names). Workflow code imports the validator, so
 * this is pure and deterministic: plain TypeScript, no Node built-ins, no clock, no randomness, no I/O.
 */
import { show, typeName } from './predicate';
import type { SpecProblem } from './spec-problem';

/** The problems of one spec, in the order the checks find them. */
export class Problems {
  readonly list: SpecProblem[] = [];

  /** Records a problem at `path` (a dotted path into the spec; empty for the spec as a whole). */
  readonly add = (path: string, message: string): void => {
    this.list.push({ path, message });
  };

  /** Records the problems another checker found (predicates, field references). */
  readonly addAll = (problems: SpecProblem[]): void => {
    this.list.push(...problems);
  };
}

export const stageNamePattern = /^[A-Za-z0-9_-]+$/;

/** `stages.email`, or `stages["bad name"]` when the name would make the path ambiguous. */
export function stagePath(name: string): string {
  return stageNamePattern.test(name) ? `stages.${name}` : `stages[${JSON.stringify(name)}]`;
}

/** Properties actually set: TypeScript specs may carry `key: undefined`, which means absent. */
export function setKeys(object: Record<string, unknown>): string[] {
  return Object.keys(object).filter((key) => object[key] !== undefined);
}

export function positiveInteger(problems: Problems, path: string, value: unknown, hint?: string): void {
  const suffix = hint ? `; ${hint}` : '';
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    problems.add(path, `must be a number, not a string; write ${value.trim()} without quotes`);
  } else if (typeof value !== 'number' || !Number.isFinite(value)) {
    problems.add(path, `must be a whole number ≥ 1, not ${show(value)}${suffix}`);
  } else if (value < 1) {
    problems.add(path, `must be at least 1 (got ${value})${suffix}`);
  } else if (!Number.isInteger(value)) {
    problems.add(path, `must be a whole number ≥ 1 (got ${value}); e.g. ${Math.round(value)}`);
  }
}

export function nonEmptyString(problems: Problems, path: string, value: unknown, hint: string): void {
  if (typeof value !== 'string') problems.add(path, `must be a string, not ${typeName(value)}; ${hint}`);
  else if (value.trim() === '') problems.add(path, `is empty; ${hint}`);
}
