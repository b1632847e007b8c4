import fs from 'node:fs';
import path from 'node:path';
import { signupEventExample, userIdProblem, type SignupEvent } from '../core/signup-event';
import { readJsonLines } from './json-lines';

export interface SignupEventLine {
  /** Has a usable userId; every other field is checked by the sign-up workflow itself. */
  event: SignupEvent;
  /** `<file>:<line>`. */
  where: string;
}

export interface UnusableEventLine {
  where: string;
  problem: string;
}

/**
 * Sign-up events from a JSON-lines file, one event object per line (blank lines and `#` comments
 * skipped). A line without a usable userId cannot become a workflow (`signup/<userId>`), so it is
 * reported here with its place; the rest of each event is validated by its workflow, which fails
 * with every problem listed, the same wherever an event comes from.
 */
export async function readSignupEvents(
  file: string,
): Promise<{ events: SignupEventLine[]; unusable: UnusableEventLine[] }> {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) {
    throw new Error(
      `Events file ${absolute} does not exist; pass a .jsonl file with one sign-up event per line, like ${signupEventExample}.`,
    );
  }
  const events: SignupEventLine[] = [];
  const unusable: UnusableEventLine[] = [];
  for await (const { value, where } of readJsonLines(absolute, signupEventExample)) {
    const record =
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
    const problem = record
      ? userIdProblem(record.userId)
      : `not an object; each line must be like ${signupEventExample}`;
    if (problem) unusable.push({ where, problem });
    else events.push({ event: record as unknown as SignupEvent, where });
  }
  return { events, unusable };
}
