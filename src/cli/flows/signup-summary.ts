/** What the sign-up flow prints: its progress line, one line per sign-up, and the verify command's answer. */
import type { SignupCounts, SignupOutcome, VerifyOutcome } from '../../client/signup';
import type { SignupStatus } from '../../workflows/flows/signup';
import { formatUtc } from '../../core/signup-messages';
import { progressLine } from '../progress';

/** E.g. `[############------------] 3/6 · 3 sent · 1 verified · 2 waiting · 0 expired · 1 failed` (and `· n locked` when any are). */
export function formatSignupProgress(counts: SignupCounts, expected: number, settled: number): string {
  const details = [
    `${counts.sent} sent`,
    `${counts.verified} verified`,
    `${counts.waiting} waiting`,
    `${counts.expired} expired`,
    ...(counts.locked ? [`${counts.locked} locked`] : []),
    `${counts.failed} failed`,
  ];
  return progressLine(settled, expected, details);
}

const expiry = (status: SignupStatus) => (status.expiresAt ? formatUtc(new Date(status.expiresAt)) : 'unknown');

function notificationText(status: SignupStatus): string {
  const n = status.notification;
  if (!n) return 'notifications: none';
  if (n.channel === 'none') return `no notifications (${n.reason})`;
  return n.channel === 'sms' ? `notifications by SMS to ${n.delivery.to}` : `notifications by e-mail`;
}

/** What a sign-up's status means to a person, after its user ID and shard. */
function statusText(status: SignupStatus): string {
  switch (status.state) {
    case 'received':
    case 'sending-verification':
      return `verification mail to ${status.email} not sent yet (is a worker serving ${status.taskQueue}?)`;
    case 'waiting':
      return `code sent to ${status.email}, valid until ${expiry(status)}${status.wrongCodes ? `; ${status.wrongCodes} wrong code(s) so far` : ''}`;
    case 'verified':
      return 'welcome mail and notifications under way';
    case 'done':
      return `welcome mail sent, ${notificationText(status)}`;
    case 'expired':
      return `not verified by ${expiry(status)}; the sign-up expired`;
    case 'locked':
      return status.lockedReason ?? `locked after ${status.wrongCodes} wrong codes`;
  }
}

/** One line for one sign-up, e.g. `  waiting    u-ada  shard 1  code sent to …, valid until …`. */
export function formatSignupLine(userId: string, outcome: SignupOutcome, width: number): string {
  if (outcome.kind === 'failed') {
    return `  ${'FAILED'.padEnd(9)} ${userId.padEnd(width)}  [${outcome.error.type}] ${outcome.error.message}`;
  }
  const s = outcome.status;
  const state = s.state === 'done' ? 'verified' : s.state === 'sending-verification' ? 'sending' : s.state;
  return `  ${state.padEnd(9)} ${userId.padEnd(width)}  shard ${s.shard}  ${statusText(s)}`;
}

/** The answer to `npm run cli -- verify <userId> <code>`. */
export function formatVerifyOutcome(userId: string, outcome: VerifyOutcome): string {
  switch (outcome.kind) {
    case 'verified':
      return `${userId} is verified. The welcome mail and notifications are on their way.`;
    case 'wrong-code':
      return (
        `That code is not ${userId}'s (${outcome.status.wrongCodes} wrong so far). The sign-up still waits for the ` +
        `code in the verification mail to ${outcome.status.email}, until ${expiry(outcome.status)}.`
      );
    case 'not-waiting': {
      const s = outcome.status;
      if (s.state === 'expired')
        return `${userId}'s sign-up expired on ${expiry(s)}; sign up again under a new user ID.`;
      return `${userId} is verified already; nothing to do.`;
    }
    case 'locked':
      return `That code was not taken: ${userId}'s sign-up is locked after ${outcome.status.wrongCodes} wrong codes. ${outcome.status.lockedReason ?? ''}`.trim();
    case 'failed':
      return `${userId}'s sign-up failed, so there is nothing to verify: [${outcome.error.type}] ${outcome.error.message}`;
    case 'unknown-user':
      return `No sign-up for user ${userId}: check the user ID (it is the "userId" of the sign-up event).`;
  }
}
