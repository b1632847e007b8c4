/**
 * Inputs and results of the notification activities (mail over SMTP, SMS). Plain types: workflows
 * import them. Every request carries the key of its effect, (workflow, step), which names the
 * ledger entry that keeps a retried send from sending twice.
 */

/** One external effect: the workflow that wants it and its step, e.g. (`signup/u-ada`, `verification`). */
export interface EffectKey {
  workflowId: string;
  /**
   * The first run ID of the workflow execution (`workflowInfo().firstExecutionRunId`): retries
   * within one execution share it, a new execution under the same workflow ID (after one was
   * terminated) has its own, so its mails are sent again. Absent in keys of older executions.
   */
  runId?: string;
  step: string;
}

export interface EmailRequest {
  key: EffectKey;
  to: string;
  toName?: string;
  subject: string;
  text: string;
}

export interface EmailDelivery {
  to: string;
  subject: string;
  /** Deterministic per (workflow, step): a resend after a crash carries the same Message-ID. */
  messageId: string;
  /** When the SMTP server accepted it (ISO time). */
  acceptedAt: string;
  /** True when an earlier attempt had sent it already and this one found it in the ledger. */
  fromLedger: boolean;
}

export interface SmsRequest {
  key: EffectKey;
  /** E.164 phone number. */
  to: string;
  text: string;
}

export interface SmsDelivery {
  to: string;
  text: string;
  /** Deterministic per (workflow, step); webhooks get it as Idempotency-Key. */
  messageId: string;
  transport: 'sink' | 'webhook';
  acceptedAt: string;
  fromLedger: boolean;
}

/** A verification mail: the code is made and mailed by the activity and never travels through history. */
export interface VerificationRequest {
  key: EffectKey;
  to: string;
  toName?: string;
  /** The user ID (for the `verify` command in the mail) and greeting name. */
  userId: string;
  greeting: string;
  /** When the code stops being valid (ISO time). */
  expiresAt: string;
}

/** A code someone entered, to compare with the one mailed under `key`. */
export interface VerificationCheck {
  key: EffectKey;
  code: unknown;
}
