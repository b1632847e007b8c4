import { ApplicationFailure } from '@temporalio/common';

/** Failure type of every "the input itself is bad" error; workflows can match on it. */
export const INVALID_INPUT = 'InvalidInput';

/**
 * Non-retryable failure for bad input: retrying cannot help. The message should say what is wrong and what to do;
 * `details` (one JSON-serialisable object) travels with the failure for programmatic handling.
 */
export function invalidInput(message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: INVALID_INPUT,
    nonRetryable: true,
    details: details ? [details] : [],
  });
}
