/**
 * The notification activities against real transports: mail over SMTP into a maildev (read back
 * through its REST API), SMS into the local sink and to an HTTP webhook. The ledger makes a
 * repeated send (a retry) return the recorded delivery instead of sending again; bad input is a
 * non-retryable InvalidInput, a refusing or absent server a retryable error.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createSignupActivities, SignupActivities, smsSinkFile } from '../src/activities/signup';
import { mailMessageId } from '../src/activities/signup/message-id';
import { sinkTransport, webhookTransport } from '../src/activities/signup/sms-transport';
import { ledgerKey } from '../src/activities/signup/ledger';
import { secretKey } from '../src/activities/signup/verification-secret';
import { LocalObjectStore } from '../src/storage/local-store';
import { signupEventProblems } from '../src/core/signup-event';
import type { MailCatcher } from '../src/devstack/mail-catcher';
import { findCaughtMail } from '../src/devstack/mail-inbox';
import { codeInVerificationMail } from '../src/core/signup-messages';
import { freePort } from '../src/infra/wait';
import { mailsTo, signupDataDir, startTestMailCatcher } from './support/signup';

const from = 'Sign-up tests <no-reply@batch.example>';

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => assert.fail('expected the call to fail'),
    (error: unknown) => error as Error,
  );
}

/** A verification mail for the user named `greeting` (its id in lower case), from run-1 of its sign-up. */
function verificationRequest(greeting: string) {
  const userId = greeting.toLowerCase();
  return {
    key: { workflowId: `signup/${userId}`, runId: 'run-1', step: 'verification' },
    to: `${userId}@example.com`,
    userId,
    greeting,
    expiresAt: '2030-01-02T03:04:00.000Z',
  };
}

describe('notification activities (real SMTP, SMS sink and webhook)', function () {
  let catcher: MailCatcher;
  let dataDir: string;
  let activities: SignupActivities;
  let store: LocalObjectStore;

  before(async () => {
    catcher = await startTestMailCatcher('signup-activities');
    dataDir = signupDataDir('signup-activities');
    store = new LocalObjectStore(path.join(dataDir, 'store'));
    activities = createSignupActivities({
      smtp: { host: '127.0.0.1', port: catcher.smtpPort },
      from,
      store: () => store,
      sms: sinkTransport(smsSinkFile(dataDir)),
    });
  });
  after(async () => {
    await catcher?.stop();
  });

  it('delivers a mail over SMTP with a Message-ID fixed by (workflow, step), and a retry does not send it again', async () => {
    const key = { workflowId: 'signup/ada', step: 'verification' };
    const request = { key, to: 'ada@example.com', toName: 'Ada', subject: 'Your code', text: 'code 1234' };
    const first = await activities.sendEmail(request);
    assert.equal(first.messageId, mailMessageId(key, from));
    assert.match(first.messageId, /^<verification\.[0-9a-f]{32}@batch\.example>$/);
    assert.equal(first.fromLedger, false);
    const mail = await findCaughtMail(catcher.webUrl, first.messageId);
    assert.deepEqual(
      [mail?.to, mail?.subject, mail?.from],
      [['ada@example.com'], 'Your code', ['no-reply@batch.example']],
    );

    const retry = await activities.sendEmail(request);
    assert.equal(retry.fromLedger, true);
    assert.equal(retry.messageId, first.messageId);
    await activities.sendEmail({ ...request, key: { ...key, step: 'welcome' }, subject: 'Welcome' });
    assert.deepEqual(
      (await mailsTo(catcher, 'ada@example.com')).map((m) => m.subject),
      ['Your code', 'Welcome'],
      'one mail per step, however often a step is sent',
    );
  });

  it('mails a verification code made in the activity: once per (workflow, run), never in what it returns', async () => {
    const request = verificationRequest('Vera');
    const first = await activities.sendVerificationCode(request);
    const retry = await activities.sendVerificationCode(request);
    assert.deepEqual([first.fromLedger, retry.fromLedger], [false, true], 'a retry within the run sends nothing');
    const mail = (await findCaughtMail(catcher.webUrl, first.messageId))!;
    assert.equal(mail.subject, 'Your verification code');
    const code = codeInVerificationMail(mail.text)!;
    assert.match(code, /^[0-9a-f]{8}$/);
    assert.match(mail.text, new RegExp(`npm run cli -- verify vera ${code}`));
    assert.match(mail.text, /valid until 2030-01-02 03:04 UTC/);
    assert.ok(!JSON.stringify([first, retry]).includes(code), 'the delivery the workflow gets has no code');
    const entry = await store.getBytes(ledgerKey(request.key));
    assert.ok(entry, `the ledger entry is at ${ledgerKey(request.key)}`);
    assert.equal(ledgerKey(request.key), 'ledgers/signup/signup%2Fvera/run-1/verification.json');
    const entries = (await store.list('ledgers/signup/')).objects;
    assert.ok(entries.length >= 1);
    for (const { key } of entries) {
      assert.ok(!(await store.getBytes(key))!.toString().includes(code), `no code in ${key}`);
    }
    assert.equal(fs.statSync(store.uriOf(secretKey)).mode & 0o777, 0o600);

    const check = (code: unknown, key = request.key) => activities.checkVerificationCode({ key, code });
    assert.equal(await check(code), true);
    assert.equal(await check(` ${code.toUpperCase()} `), true, 'as users type it');
    assert.deepEqual(await Promise.all([check('0000000'), check(`${code}0`), check(42), check(undefined)]), [
      false,
      false,
      false,
      false,
    ]);

    // A new execution under the same workflow ID (the first was terminated): its own mail and code.
    const nextRun = { ...request, key: { ...request.key, runId: 'run-2' } };
    const second = await activities.sendVerificationCode(nextRun);
    assert.equal(second.fromLedger, false);
    assert.notEqual(second.messageId, first.messageId);
    const secondCode = codeInVerificationMail((await findCaughtMail(catcher.webUrl, second.messageId))!.text)!;
    assert.notEqual(secondCode, code);
    assert.equal(await check(secondCode, nextRun.key), true);
    assert.equal(await check(code, nextRun.key), false, "the first run's code is not the second's");
    assert.equal((await mailsTo(catcher, 'vera@example.com')).length, 2);
  });

  it('refuses to make codes with a damaged secret, naming the file and the fix, and mails nothing', async () => {
    const damagedStore = new LocalObjectStore(path.join(dataDir, 'damaged-store'));
    await damagedStore.putBytes(secretKey, '\n'); // e.g. truncated by a full disk
    const damaged = createSignupActivities({
      smtp: { host: '127.0.0.1', port: catcher.smtpPort },
      from,
      store: () => damagedStore,
      sms: sinkTransport(smsSinkFile(dataDir)),
    });
    const request = verificationRequest('Wes');
    const error = await failureOf(damaged.sendVerificationCode(request));
    assert.match(error.message, /verification-key is not 64 or more hex digits; delete .* to have a new one made/);
    await assert.rejects(damaged.checkVerificationCode({ key: request.key, code: '00000000' }), /not 64 or more hex/);
    assert.deepEqual(await mailsTo(catcher, 'wes@example.com'), []);
  });

  it('rejects a bad address or an empty mail as InvalidInput (not retried) and sends nothing', async () => {
    const key = { workflowId: 'signup/bad', step: 'verification' };
    const error = await failureOf(activities.sendEmail({ key, to: 'bad-at-example.com', subject: 'x', text: '' }));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.type, 'InvalidInput');
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, /email "bad-at-example.com" is not an e-mail address; write it like ada@example.com/);
    assert.match(error.message, /the text is empty/);
    assert.deepEqual(await mailsTo(catcher, 'bad-at-example.com'), []);
  });

  it('reports an SMTP server that does not answer as a retryable error naming the server', async () => {
    const port = await freePort();
    const offline = createSignupActivities({
      smtp: { host: '127.0.0.1', port },
      from,
      store: () => store,
      sms: sinkTransport(smsSinkFile(dataDir)),
    });
    const key = { workflowId: 'signup/offline', step: 'verification' };
    const error = await failureOf(offline.sendEmail({ key, to: 'off@example.com', subject: 'x', text: 'y' }));
    assert.ok(!(error instanceof ApplicationFailure && error.nonRetryable), 'retried');
    assert.match(error.message, new RegExp(`SMTP server at 127.0.0.1:${port}.*is it running\\?`));
  });

  it('hands an SMS to the local sink once per (workflow, step) and rejects a bad number', async () => {
    const key = { workflowId: 'signup/bob', step: 'notifications-on' };
    const first = await activities.sendSms({ key, to: '+15550100001', text: 'hello Bob' });
    const retry = await activities.sendSms({ key, to: '+15550100001', text: 'hello Bob' });
    assert.deepEqual([first.transport, first.fromLedger, retry.fromLedger], ['sink', false, true]);
    const lines = fs
      .readFileSync(smsSinkFile(dataDir), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => [l.id, l.to, l.text]),
      [[first.messageId, '+15550100001', 'hello Bob']],
    );
    const error = await failureOf(activities.sendSms({ key: { ...key, step: 'x' }, to: '0151 123', text: 'hi' }));
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.type, 'InvalidInput');
    assert.match(error.message, /phone "0151 123" is not a phone number in international form/);
  });

  it('posts an SMS to a webhook with an idempotency key; a 4xx is not retried, a 5xx is', async () => {
    const received: { key: string | undefined; body: { id: string; to: string; text: string } }[] = [];
    let answer = 202;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ key: req.headers['idempotency-key'] as string | undefined, body: JSON.parse(body) });
        res.writeHead(answer).end(answer >= 400 ? 'number blocked' : '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/sms`;
    try {
      const viaWebhook = createSignupActivities({
        smtp: { host: '127.0.0.1', port: catcher.smtpPort },
        from,
        store: () => new LocalObjectStore(path.join(dataDir, 'webhook-store')),
        sms: webhookTransport(url),
      });
      const key = { workflowId: 'signup/cy', step: 'notifications-on' };
      const delivery = await viaWebhook.sendSms({ key, to: '+15550100003', text: 'hi Cy' });
      assert.equal(delivery.transport, 'webhook');
      assert.deepEqual(received, [
        { key: delivery.messageId, body: { id: delivery.messageId, to: '+15550100003', text: 'hi Cy' } },
      ]);

      answer = 400;
      const refused = await failureOf(
        viaWebhook.sendSms({ key: { ...key, step: 'a' }, to: '+15550100003', text: 'x' }),
      );
      assert.ok(refused instanceof ApplicationFailure);
      assert.equal(refused.nonRetryable, true);
      assert.match(refused.message, /refused the message to \+15550100003 \(HTTP 400: number blocked\)/);

      answer = 503;
      const failed = await failureOf(viaWebhook.sendSms({ key: { ...key, step: 'b' }, to: '+15550100003', text: 'x' }));
      assert.ok(!(failed instanceof ApplicationFailure && failed.nonRetryable), 'retried');
      assert.match(failed.message, /HTTP 503.*retried/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('names every problem of a bad sign-up event', () => {
    assert.deepEqual(signupEventProblems({ userId: 'u1', email: 'u1@example.com', optIn: true }), []);
    assert.deepEqual(signupEventProblems({ email: 'x@example.com', preference: 'pigeon' }), [
      'missing "userId"; every event needs one',
      'preference "pigeon" is unknown; use one of: email, sms',
    ]);
    assert.deepEqual(signupEventProblems({ userId: 'a b', email: 'ok@example.com', preference: 'sms' }), [
      `userId "a b" is not usable; use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      'missing "phone" (preference "sms" needs one)',
    ]);
    assert.deepEqual(signupEventProblems('u1'), [
      'the event must be an object like {"userId": "u-ada", "email": "ada@example.com", "optIn": true, "preference": "email"}',
    ]);
  });
});
