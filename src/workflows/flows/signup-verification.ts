/**
 * The sign-up's verification step: mail a code, then wait for the `verified` signal with it.
 * Deterministic workflow code.
 *
 * `verifyByCode` (every sign-up since the patch `signup-code-out-of-history`): the code is made,
 * mailed and checked by activities on the user's shard queue (src/activities/signup/
 * send-verification.ts); the workflow, its status, result and history never hold it. The mail is
 * keyed by workflow ID and first run ID, so a new execution after a terminated one mails again.
 * After `maxWrongCodes` wrong codes the sign-up is locked.
 *
 * `verifyByCodeInWorkflow`: the step as sign-ups started before the patch run it (code from the
 * workflow's uuid4, mailed from workflow input, unlimited tries). Kept as is so they replay.
 */
import { condition, setHandler, uuid4 } from '@temporalio/workflow';
import { displayName, type SignupEvent } from '../../core/signup-event';
import { signupActivities } from './signup-activities';
import { formatUtc, verificationMail } from '../../core/signup-messages';
import { verifiedSignal, type SignupState, type SignupStatus } from './signup-status';

export const codeOutOfHistoryPatch = 'signup-code-out-of-history';

/** Wrong codes after which a sign-up is locked: 5 guesses at 2^32 codes cannot find one. */
export const maxWrongCodes = 5;

/** Longer input is no code: refused without asking an activity (and without carrying it further). */
const longestCode = 64;

export interface VerificationStep {
  event: SignupEvent;
  status: SignupStatus;
  enter: (state: SignupState) => void;
  taskQueue: string;
  workflowId: string;
  expiresAt: Date;
}

export type VerificationOutcome = 'verified' | 'expired' | 'locked';

const remaining = (expiresAt: Date) => Math.max(1, expiresAt.getTime() - Date.now());
const timerSummary = (expiresAt: Date) => `verification code expires ${formatUtc(expiresAt)}`;
const takesCodes = (status: SignupStatus) => status.state === 'waiting' || status.state === 'sending-verification';

/** Sets the signal handler at once (call before the first await), then mails and waits. */
export function verifyByCode(step: VerificationStep, runId: string): Promise<VerificationOutcome> {
  const { event, status, enter, taskQueue, workflowId, expiresAt } = step;
  const key = { workflowId, runId, step: 'verification' };
  const entered: unknown[] = [];
  setHandler(verifiedSignal, (given) => {
    if (takesCodes(status)) entered.push(given); // later ones: too late, or verified already
  });
  const { sendVerificationCode, checkVerificationCode } = signupActivities(taskQueue);
  return (async () => {
    status.expiresAt = expiresAt.toISOString();
    enter('sending-verification');
    status.verification = await sendVerificationCode({
      key,
      to: event.email,
      toName: event.name,
      userId: event.userId,
      greeting: displayName(event),
      expiresAt: status.expiresAt,
    });
    enter('waiting');
    for (;;) {
      const inTime = await condition(() => entered.length > 0, remaining(expiresAt), {
        summary: timerSummary(expiresAt),
      });
      if (!inTime) return 'expired';
      const given = entered.shift();
      const right =
        typeof given === 'string' && given.length <= longestCode && (await checkVerificationCode({ key, code: given }));
      // Counted once checked, so `verify` (which waits for the count to grow) reads the verdict.
      status.codesReceived += 1;
      if (right) return 'verified';
      status.wrongCodes += 1;
      if (status.wrongCodes >= maxWrongCodes) {
        status.lockedReason = `${status.wrongCodes} wrong codes: the sign-up is locked, so codes cannot be guessed; the user needs a new sign-up (ask an operator).`;
        return 'locked';
      }
    }
  })();
}

/** The step as sign-ups started before the patch run it; do not change (recorded histories replay it). */
export function verifyByCodeInWorkflow(step: VerificationStep): Promise<VerificationOutcome> {
  const { event, status, enter, taskQueue, workflowId, expiresAt } = step;
  // uuid4() is the workflow's deterministic randomness: the same code on every replay.
  const code = uuid4().replace(/-/g, '').slice(0, 8);
  let verified = false;
  setHandler(verifiedSignal, (given) => {
    if (!takesCodes(status)) return; // too late or already verified
    status.codesReceived += 1;
    if (typeof given === 'string' && given.trim().toLowerCase() === code) verified = true;
    else status.wrongCodes += 1;
  });
  return (async () => {
    status.expiresAt = expiresAt.toISOString();
    enter('sending-verification');
    const { sendEmail } = signupActivities(taskQueue);
    status.verification = await sendEmail({
      key: { workflowId, step: 'verification' },
      to: event.email,
      toName: event.name,
      ...verificationMail(event, code, expiresAt),
    });
    enter('waiting');
    const inTime = await condition(() => verified, remaining(expiresAt), { summary: timerSummary(expiresAt) });
    return inTime ? 'verified' : 'expired';
  })();
}
