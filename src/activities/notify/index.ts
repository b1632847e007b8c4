/**
 * The notification activities (mail over SMTP, SMS through a pluggable transport), built from the
 * configuration: workers of the sign-up shard queues register them. Workflows import the type only.
 */
import path from 'node:path';
import nodemailer from 'nodemailer';
import { BatchConfig, smtpHost } from '../../runtime/config';
import { EffectLedger } from './ledger';
import { createSendEmail } from './send-email';
import { createSendSms } from './send-sms';
import { createVerificationActivities } from './send-verification';
import { sinkTransport, SmsTransport, webhookTransport } from './sms-transport';
import { verificationSecretFile } from './verification-code';

export interface NotifyDeps {
  smtp: { host: string; port: number };
  from: string;
  /** Folder of the idempotency ledger (one file per workflow, run and step) and of the code secret. */
  ledgerDir: string;
  sms: SmsTransport;
}

export function createNotifyActivities(deps: NotifyDeps) {
  const transport = nodemailer.createTransport({
    host: deps.smtp.host,
    port: deps.smtp.port,
    secure: deps.smtp.port === 465,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  const ledger = new EffectLedger(deps.ledgerDir);
  const sendEmail = createSendEmail({
    transport,
    server: `${deps.smtp.host}:${deps.smtp.port}`,
    from: deps.from,
    ledger,
  });
  return {
    sendEmail,
    sendSms: createSendSms({ transport: deps.sms, ledger }),
    ...createVerificationActivities({ sendEmail, secretFile: verificationSecretFile(deps.ledgerDir) }),
  };
}

export type NotifyActivities = ReturnType<typeof createNotifyActivities>;

/** Where the local SMS sink writes: `<dataDir>/sms/outbox.jsonl`. */
export const smsSinkFile = (dataDir: string) => path.join(dataDir, 'sms', 'outbox.jsonl');

/** The activities as configured: SMTP server and sender from `config`, ledger and SMS sink under `dataDir`. */
export function notifyActivitiesFor(config: BatchConfig, dataDir: string): NotifyActivities {
  return createNotifyActivities({
    smtp: { host: smtpHost(config), port: config.mail.smtpPort },
    from: config.mail.from,
    ledgerDir: path.join(dataDir, 'ledgers', 'notify'),
    sms: config.signup.smsWebhookUrl
      ? webhookTransport(config.signup.smsWebhookUrl)
      : sinkTransport(smsSinkFile(dataDir)),
  });
}
