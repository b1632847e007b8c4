import { effectId } from './ledger';
import type { EffectKey } from './types';

/** The domain of a sender like `Name <no-reply@batch.example>` or `no-reply@batch.example`. */
export function senderDomain(from: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from);
  if (!match)
    throw new Error(
      `The mail sender "${from}" has no domain; set BATCH_MAIL_FROM to e.g. "Sign-up <no-reply@example.com>".`,
    );
  return match[1];
}

/**
 * The Message-ID of the mail of one (workflow, step), e.g. `<verification.3f2a…@batch.example>`:
 * deterministic, so a mail sent again after a crash is recognisably the same message, and anyone
 * who knows the workflow and step (the demo, a test) can find it in a mailbox.
 */
export function mailMessageId(key: EffectKey, from: string): string {
  const step = key.step.replace(/[^A-Za-z0-9-]+/g, '-');
  return `<${step}.${effectId(key)}@${senderDomain(from)}>`;
}
