/**
 * The new-user sign-up flow (seeds, ch. 11 and issue 4 §2): one workflow per user, ID
 * `signup/<userId>`, so a duplicate sign-up event is deduplicated by the server.
 *
 *   sharder   stable hash of the user ID → shard k; every send runs on `<queue>-shard-<k>`, served
 *             by that shard's own workers (a failure zone: an outage delays only its users)
 *   verify    a verification mail over SMTP with a code, then a wait for the `verified` signal
 *             with that code for `verifyWithin` of workflow time (default 3 days) → `expired`;
 *             5 wrong codes → `locked`. The code is made, mailed and checked by activities and
 *             never reaches the workflow, its status or history (signup-verification.ts)
 *   copier    once verified, two child workflows: the welcome mail, and notifications (filter:
 *             opted in; splitter: e-mail or SMS by preference) — see signup-branches.ts
 *
 * The `status` query tells where a sign-up is; BatchStage shows the same in the Web UI.
 */
import {
  ApplicationFailure,
  executeChild,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { BatchPipeline, BatchRun, BatchShards, BatchStage, runSearchAttributes } from '../../core/search-attributes';
import { signupEventProblems, type SignupEvent } from '../../core/signup-event';
import { parseDuration } from '../../core/duration';
import { copyToAll } from '../patterns/copier';
import { shardOf, shardQueue } from '../patterns/sharder';
import { signupNotifications, signupWelcome } from './signup-branches';
import { signupStatusQuery, type SignupState, type SignupStatus } from './signup-status';
import { codeOutOfHistoryPatch, verifyByCode, verifyByCodeInWorkflow } from './signup-verification';

export interface SignupInput {
  /** The sign-up event; validated here, so an event from anywhere gets the same clear errors. */
  event: SignupEvent;
  /** The submission this event came with (BatchRun in the Web UI), e.g. a CLI run name. */
  run: string;
  /** Shard queues `<queue>-shard-<k>`, k < count. */
  shards: { queue: string; count: number };
  /** How long the code stays valid, in workflow time, e.g. "3 days". */
  verifyWithin: string;
}

export type { SignupState, SignupStatus } from './signup-status';
export { signupStatusQuery, verifiedSignal } from './signup-status';

/** The sign-up's last status: `done` (verified, welcomed, notifications set up) or `expired`. */
export type SignupResult = SignupStatus;

export const signupPipelineName = 'signup';

export const signupWorkflowId = (userId: string) => `signup/${userId}`;

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'InvalidInput');
}

function checkedInput(input: SignupInput): { event: SignupEvent; verifyWithinMs: number } {
  const problems = signupEventProblems(input.event);
  if (problems.length > 0) {
    const who = typeof input.event?.userId === 'string' ? ` of user ${input.event.userId}` : '';
    throw invalid(`The sign-up event${who} is invalid: ${problems.join('; ')}. Fix the event and submit it again.`);
  }
  const verifyWithinMs = parseDuration(input.verifyWithin) ?? 0;
  if (!(verifyWithinMs > 0)) {
    throw invalid(`verifyWithin "${input.verifyWithin}" is not a duration; write e.g. "3 days" or "12 hours".`);
  }
  if (!(Number.isInteger(input.shards?.count) && input.shards.count >= 1)) {
    throw invalid(`shards.count ${JSON.stringify(input.shards?.count)} must be a whole number ≥ 1.`);
  }
  return { event: input.event, verifyWithinMs };
}

export async function signup(input: SignupInput): Promise<SignupResult> {
  const { event, verifyWithinMs } = checkedInput(input);
  const shard = shardOf({ key: '$id', shards: input.shards.count }, { id: event.userId, data: {} });
  const taskQueue = shardQueue(input.shards.queue, shard);
  const status: SignupStatus = {
    userId: event.userId,
    email: event.email,
    state: 'received',
    shard,
    taskQueue,
    codesReceived: 0,
    wrongCodes: 0,
  };
  const enter = (state: SignupState) => {
    status.state = state;
    upsertSearchAttributes([{ key: BatchStage, value: state }]);
  };
  upsertSearchAttributes([
    { key: BatchPipeline, value: signupPipelineName },
    { key: BatchRun, value: input.run },
    { key: BatchShards, value: [taskQueue] },
  ]);
  setHandler(signupStatusQuery, () => status);

  const { workflowId, firstExecutionRunId } = workflowInfo();
  const step = { event, status, enter, taskQueue, workflowId, expiresAt: new Date(Date.now() + verifyWithinMs) };
  // Sign-ups started before the patch keep their code in the workflow (they replay as recorded).
  const runId = patched(codeOutOfHistoryPatch) ? firstExecutionRunId : undefined;
  const outcome = await (runId ? verifyByCode(step, runId) : verifyByCodeInWorkflow(step));
  if (outcome !== 'verified') {
    enter(outcome);
    return status;
  }
  status.verifiedAt = new Date().toISOString();
  enter('verified');

  const branch = { event, signupWorkflowId: workflowId, signupRunId: runId, taskQueue };
  // The branches are findable beside their sign-up: same pipeline and run, the branch as stage.
  const branchAttributes = (stage: string) => runSearchAttributes(signupPipelineName, input.run, stage);
  const results = await copyToAll<'welcome' | 'notifications', Partial<SignupStatus>>(
    ['welcome', 'notifications'],
    async (to) =>
      to === 'welcome'
        ? {
            welcome: await executeChild(signupWelcome, {
              workflowId: `${workflowId}/welcome`,
              typedSearchAttributes: branchAttributes('welcome'),
              staticSummary: `welcome mail to ${event.email}`,
              args: [branch],
            }),
          }
        : {
            notification: await executeChild(signupNotifications, {
              workflowId: `${workflowId}/notifications`,
              typedSearchAttributes: branchAttributes('notifications'),
              staticSummary: `notifications for ${event.userId}: opted in? then e-mail or SMS`,
              args: [branch],
            }),
          },
  );
  for (const result of results) Object.assign(status, result);
  enter('done');
  return status;
}
