import { ApplicationFailure } from '@temporalio/common';
import type { Transporter } from 'nodemailer';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import { emailProblem } from '../../core/signup-event';
import { invalidInput } from '../errors';
import { faultPoint } from '../fault-point';
import { effectKeyProblem, type EffectLedger } from './ledger';
import { mailMessageId } from './message-id';
import type { EmailDelivery, EmailRequest } from './types';

export interface SendEmailDeps {
  transport: Transporter;
  /** `host:port` of the SMTP server, for messages. */
  server: string;
  from: string;
  ledger: EffectLedger;
}

function checkRequest(request: EmailRequest): void {
  const problems = [
    emailProblem(request.to),
    request.subject?.trim() ? undefined : 'the subject is empty',
    request.text?.trim() ? undefined : 'the text is empty',
    effectKeyProblem(request.key),
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) {
    throw invalidInput(`Cannot send this mail: ${problems.join('; ')}.`, { to: request.to, key: request.key });
  }
}

/** A failed SMTP send as a Temporal failure: permanent refusals are not retried, everything else is. */
function sendFailure(error: unknown, request: EmailRequest, server: string): Error {
  const smtp = error as SMTPConnection.SMTPError;
  const code = smtp.responseCode;
  const reply = smtp.response ?? smtp.message;
  if (code !== undefined && code >= 500 && smtp.code === 'EENVELOPE') {
    return invalidInput(
      `The SMTP server at ${server} refused the recipient ${request.to}: ${reply}. Check the address.`,
      { to: request.to, responseCode: code },
    );
  }
  if (code !== undefined && code >= 500) {
    return ApplicationFailure.nonRetryable(
      `The SMTP server at ${server} permanently refused the mail to ${request.to}: ${reply}. Check the server's settings (BATCH_SMTP_HOST, BATCH_SMTP_PORT, BATCH_MAIL_FROM).`,
      'MailRejected',
    );
  }
  return new Error(
    `Could not hand the mail to ${request.to} to the SMTP server at ${server}: ${reply}` +
      (code === undefined ? ' (is it running? npm start runs a local one)' : '') +
      '; the activity is retried.',
  );
}

/**
 * The `sendEmail` activity: one mail over SMTP, at most once per (workflow, step) as far as the
 * ledger can tell. It sends, then records the delivery in the ledger once the server has accepted
 * the mail; a retry finds the record and returns it without sending. The window that remains: a
 * worker that dies after the server accepted the mail but before the record is written sends it
 * again on retry (with the same Message-ID, so mail clients that dedupe show it once). Recording
 * before sending would close that window by risking a mail that is never sent instead.
 */
export function createSendEmail(deps: SendEmailDeps) {
  return async function sendEmail(request: EmailRequest): Promise<EmailDelivery> {
    checkRequest(request);
    const recorded = await deps.ledger.find<EmailDelivery>(request.key);
    if (recorded) return { ...recorded, fromLedger: true };

    const messageId = mailMessageId(request.key, deps.from);
    try {
      await deps.transport.sendMail({
        from: deps.from,
        to: request.toName ? { name: request.toName, address: request.to } : request.to,
        subject: request.subject,
        text: request.text,
        messageId,
      });
    } catch (error) {
      throw sendFailure(error, request, deps.server);
    }
    const delivery: EmailDelivery = {
      to: request.to,
      subject: request.subject,
      messageId,
      acceptedAt: new Date().toISOString(),
      fromLedger: false,
    };
    await deps.ledger.record(request.key, delivery);
    await faultPoint('after-mail-sent');
    return delivery;
  };
}
