/**
 * One JSON object per log line: `time`, `level`, `message`, `process`, `pid`, then the entry's
 * attributes as the SDK and our code attach them (workflowId, runId, activityType, attempt,
 * pipeline, run, stage, itemId, …), so a log collector can filter on any of them.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { LogEntry } from '@temporalio/worker';

/** Errors as their fields (JSON.stringify would print `{}`); causes follow through the replacer. */
function errorFields(error: Error): Record<string, unknown> {
  return {
    name: error.name,
    message: error.message,
    ...(error instanceof ApplicationFailure ? { type: error.type, nonRetryable: error.nonRetryable } : {}),
    stack: error.stack,
    ...(error.cause !== undefined ? { cause: error.cause } : {}),
  };
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return errorFields(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function jsonLogLine(entry: LogEntry, processName: string): string {
  // The activity task token completes the activity for whoever holds it: it stays out of logs.
  const { taskToken: _token, ...attributes } = entry.meta ?? {};
  const head = {
    time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
    level: entry.level,
    message: entry.message,
    process: processName,
    pid: process.pid,
  };
  try {
    // The head's keys come first for a person reading the line, and attributes never overwrite them.
    return JSON.stringify({ ...head, ...attributes, ...head }, replacer);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return JSON.stringify({ ...head, logError: `attributes not serializable: ${reason}` });
  }
}
