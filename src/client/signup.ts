/**
 * The sign-up flow from the client side: start one workflow per sign-up event (a duplicate is
 * deduplicated by the server through the workflow ID `signup/<userId>`), count where a run's
 * sign-ups are from visibility (BatchStage), read each one's outcome, and verify a user's code.
 */
import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowHandle,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { BatchStage, runSearchAttributes } from '../core/search-attributes';
import type { SignupEvent } from '../core/signup-event';
import type { BatchConfig } from '../infra/config';
import { waitFor } from '../infra/wait';
import {
  signup,
  signupPipelineName,
  SignupState,
  SignupStatus,
  signupStatusQuery,
  signupWorkflowId,
  verifiedSignal,
} from '../workflows/flows/signup';

export interface StartedSignup {
  userId: string;
  handle: WorkflowHandle<typeof signup>;
  /** True when this user's sign-up exists already (running, verified or expired): nothing new started. */
  duplicate: boolean;
}

/** Starts the sign-up of one user; a second event for the same user starts nothing. */
export async function startSignup(
  client: Client,
  config: BatchConfig,
  event: SignupEvent,
  run: string,
): Promise<StartedSignup> {
  const workflowId = signupWorkflowId(event.userId);
  try {
    const handle = await client.workflow.start(signup, {
      workflowId,
      taskQueue: config.queues.workflow,
      // A user signs up once: a running or finished (verified, expired) sign-up is not started
      // again; only one that failed (a bad event) may be submitted again, fixed.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      staticSummary: `sign-up of ${event.userId} (${typeof event.email === 'string' ? event.email : 'no e-mail'})`,
      args: [
        {
          event,
          run,
          shards: { queue: config.signup.queue, count: config.signup.shards },
          verifyWithin: config.signup.verifyWithin,
        },
      ],
      typedSearchAttributes: runSearchAttributes(signupPipelineName, run, 'received'),
    });
    return { userId: event.userId, handle, duplicate: false };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return { userId: event.userId, handle: client.workflow.getHandle<typeof signup>(workflowId), duplicate: true };
  }
}

export interface SignupCounts {
  /** Sign-ups of the run that visibility knows of. */
  total: number;
  /** Verification mail sent (waiting, verified, done or expired). */
  sent: number;
  verified: number;
  waiting: number;
  expired: number;
  /** Locked after too many wrong codes. */
  locked: number;
  failed: number;
}

/**
 * Where the sign-ups a run started are, from one visibility query (BatchStage of each, failed
 * executions by status): cheap for any number of users; may lag the workflows by a moment.
 */
export async function countSignups(client: Client, run: string): Promise<SignupCounts> {
  const counts: SignupCounts = { total: 0, sent: 0, verified: 0, waiting: 0, expired: 0, locked: 0, failed: 0 };
  const query = `WorkflowType = "signup" AND BatchRun = "${run.replace(/"/g, '\\"')}"`;
  for await (const execution of client.workflow.list({ query })) {
    counts.total += 1;
    const status = execution.status.name;
    if (status !== 'RUNNING' && status !== 'COMPLETED') {
      counts.failed += 1;
      continue;
    }
    const stage = execution.typedSearchAttributes.get(BatchStage) as SignupState | undefined;
    if (stage === 'waiting' || stage === 'verified' || stage === 'done' || stage === 'expired' || stage === 'locked')
      counts.sent += 1;
    if (stage === 'waiting') counts.waiting += 1;
    if (stage === 'verified' || stage === 'done') counts.verified += 1;
    if (stage === 'expired') counts.expired += 1;
    if (stage === 'locked') counts.locked += 1;
  }
  return counts;
}

/** One sign-up's outcome so far: its status, or why it failed. */
export type SignupOutcome =
  { kind: 'status'; status: SignupStatus } | { kind: 'failed'; error: { type: string; message: string } };

export async function signupOutcome(handle: WorkflowHandle<typeof signup>): Promise<SignupOutcome> {
  const { status } = await handle.describe();
  if (status.name === 'RUNNING') return { kind: 'status', status: await handle.query(signupStatusQuery) };
  try {
    return { kind: 'status', status: await handle.result() };
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : error;
    const type = cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : status.name;
    return { kind: 'failed', error: { type, message: cause instanceof Error ? cause.message : String(cause) } };
  }
}

export type VerifyOutcome =
  | { kind: 'verified'; status: SignupStatus }
  | { kind: 'wrong-code'; status: SignupStatus }
  | { kind: 'not-waiting'; status: SignupStatus }
  /** Too many wrong codes: this code (and any later one) is not taken. */
  | { kind: 'locked'; status: SignupStatus }
  | { kind: 'failed'; error: { type: string; message: string } }
  | { kind: 'unknown-user' };

/**
 * Sends a user's code to their sign-up (the `verified` signal) and reports what the workflow
 * made of it: the signal itself returns nothing, so this waits until the workflow has counted
 * the code (its `codesReceived` grows once the code is checked) or has left the waiting state.
 * The fifth wrong code answers `locked`.
 */
export async function verifySignup(client: Client, userId: string, code: string): Promise<VerifyOutcome> {
  const handle = client.workflow.getHandle<typeof signup>(signupWorkflowId(userId));
  let before: SignupOutcome;
  try {
    before = await signupOutcome(handle);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { kind: 'unknown-user' };
    throw error;
  }
  if (before.kind === 'failed') return before;
  if (before.status.state === 'locked') return { kind: 'locked', status: before.status };
  if (before.status.state !== 'waiting' && before.status.state !== 'sending-verification') {
    return { kind: 'not-waiting', status: before.status };
  }
  const counted = before.status.codesReceived;
  await handle.signal(verifiedSignal, code);
  let after = before.status;
  await waitFor(
    `the sign-up of ${userId} to take the code`,
    async () => {
      after = await handle.query(signupStatusQuery);
      return after.codesReceived > counted || (after.state !== 'waiting' && after.state !== 'sending-verification');
    },
    30_000,
    200,
  );
  if (after.state === 'verified' || after.state === 'done') return { kind: 'verified', status: after };
  if (after.state === 'expired') return { kind: 'not-waiting', status: after };
  if (after.state === 'locked') return { kind: 'locked', status: after };
  return { kind: 'wrong-code', status: after };
}
