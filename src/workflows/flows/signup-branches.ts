/**
 * The two branches the sign-up flow copies a verified user into (copier, seeds ch. 11), each a
 * child workflow: the welcome mail, and notifications — a filter keeps users who opted in, then a
 * splitter routes each to e-mail or SMS by preference. Both send on the user's shard queue.
 */
import type { EmailDelivery, SmsDelivery } from '../../activities/signup/types';
import type { SignupEvent } from '../../core/signup-event';
import type { FilterStage, PipelineItem, SplitStage } from '../../pipelines/spec';
import { passesFilter } from '../patterns/filter';
import { routeOf } from '../patterns/splitter';
import { signupActivities } from './signup-activities';
import { notificationsOnMail, notificationsOnSms, welcomeMail } from '../../core/signup-messages';

export interface SignupBranchInput {
  event: SignupEvent;
  /** The parent's workflow ID: with its first run ID and the step, the key of each send in the ledger. */
  signupWorkflowId: string;
  /** The parent's first run ID (absent for sign-ups started before it was part of the key). */
  signupRunId?: string;
  /** The user's shard queue. */
  taskQueue: string;
}

export type NotificationOutcome =
  | { channel: 'email'; delivery: EmailDelivery }
  | { channel: 'sms'; delivery: SmsDelivery }
  | { channel: 'none'; reason: string };

const optedIn: FilterStage = { kind: 'filter', where: { field: 'optIn', op: 'eq', value: true } };

const byPreference: SplitStage = {
  kind: 'split',
  routes: [
    { when: { field: 'preference', op: 'eq', value: 'email' }, to: 'email' },
    { when: { field: 'preference', op: 'eq', value: 'sms' }, to: 'sms' },
  ],
  // Validated events only say email or sms; e-mail is the channel every user has.
  default: 'email',
};

/** The fields the filter and splitter read, with the event's defaults applied. */
function notificationItem(event: SignupEvent): PipelineItem {
  return { id: event.userId, data: { optIn: event.optIn ?? false, preference: event.preference ?? 'email' } };
}

export async function signupWelcome(input: SignupBranchInput): Promise<EmailDelivery> {
  const { sendEmail } = signupActivities(input.taskQueue);
  return sendEmail({
    key: { workflowId: input.signupWorkflowId, runId: input.signupRunId, step: 'welcome' },
    to: input.event.email,
    toName: input.event.name,
    ...welcomeMail(input.event),
  });
}

export async function signupNotifications(input: SignupBranchInput): Promise<NotificationOutcome> {
  const item = notificationItem(input.event);
  if (!passesFilter(optedIn, item)) return { channel: 'none', reason: 'not opted in' };
  const { sendEmail, sendSms } = signupActivities(input.taskQueue);
  const key = { workflowId: input.signupWorkflowId, runId: input.signupRunId, step: 'notifications-on' };
  if (routeOf(byPreference, item) === 'sms') {
    // Validation guarantees a phone number for preference "sms".
    const delivery = await sendSms({ key, to: input.event.phone!, text: notificationsOnSms(input.event) });
    return { channel: 'sms', delivery };
  }
  const delivery = await sendEmail({
    key,
    to: input.event.email,
    toName: input.event.name,
    ...notificationsOnMail(input.event),
  });
  return { channel: 'email', delivery };
}
