/**
 * The notification activities (mail over SMTP, SMS through a pluggable transport), built from the
 * configuration: workers of the sign-up shard queues register them. Workflows import the type only.
 */
import path from 'node:path';
import nodemailer from 'nodemailer';
import { BatchConfig, smtpHost } from '../../infra/config';
import type { ObjectStore } from '../../storage/object-store';
import { LocalObjectStore } from '../../storage/local-store';
import { storage } from '../../storage/storage';
import { EffectLedger } from './ledger';
import { createSendEmail } from './send-email';
import { createSendSms } from './send-sms';
import { createVerificationActivities } from './send-verification';
import { sinkTransport, SmsTransport, webhookTransport } from './sms-transport';
import { legacySecretFile, loadVerificationSecret } from './verification-secret';

export interface SignupDeps {
  smtp: { host: string; port: number };
  from: string;
  /**
   * Where the idempotency ledger (one object per workflow, first run and step, under
   * `ledgers/signup/`) and the code secret live: the object store every host reaches. Default: the
   * process's store (`storage()`, read at each call, so a test's `useStorage` applies).
   */
  store?: () => ObjectStore;
  /** This host's data folder: the ledger and secret of before the move are still read from it. */
  legacyDataDir?: string;
  /** The environment with BATCH_SIGNUP_SECRET (default: the process's). */
  env?: NodeJS.ProcessEnv;
  sms: SmsTransport;
}

export function createSignupActivities(deps: SignupDeps) {
  const transport = nodemailer.createTransport({
    host: deps.smtp.host,
    port: deps.smtp.port,
    secure: deps.smtp.port === 465,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  const store = deps.store ?? storage;
  const legacy = deps.legacyDataDir;
  const ledger = new EffectLedger(store, legacy && path.join(legacy, 'ledgers', 'notify'));
  const sendEmail = createSendEmail({
    transport,
    server: `${deps.smtp.host}:${deps.smtp.port}`,
    from: deps.from,
    ledger,
  });
  return {
    sendEmail,
    sendSms: createSendSms({ transport: deps.sms, ledger }),
    ...createVerificationActivities({
      sendEmail,
      loadSecret: () =>
        loadVerificationSecret(store(), { env: deps.env, legacyFile: legacy && legacySecretFile(legacy) }),
    }),
  };
}

export type SignupActivities = ReturnType<typeof createSignupActivities>;

/** Where the local SMS sink writes: `<dataDir>/sms/outbox.jsonl`. */
export const smsSinkFile = (dataDir: string) => path.join(dataDir, 'sms', 'outbox.jsonl');

/**
 * The activities as configured: SMTP server and sender from `config`, ledger and code secret in the
 * process's object store, the SMS sink (a host-local demo stand-in) under `dataDir`.
 */
export function signupActivitiesFor(config: BatchConfig, dataDir: string): SignupActivities {
  let local: LocalObjectStore | undefined;
  return createSignupActivities({
    smtp: { host: smtpHost(config), port: config.mail.smtpPort },
    from: config.mail.from,
    // The configured bucket, or on the local backend this data folder (the store's root on a worker).
    store: () => {
      const configured = storage();
      return configured.kind === 'local' ? (local ??= new LocalObjectStore(dataDir)) : configured;
    },
    legacyDataDir: dataDir,
    sms: config.signup.smsWebhookUrl
      ? webhookTransport(config.signup.smsWebhookUrl)
      : sinkTransport(smsSinkFile(dataDir)),
  });
}
