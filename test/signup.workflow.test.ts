/**
 * The sign-up flow on the time-skipping server with real SMTP: a maildev per suite catches the
 * mails (checked through its REST API), the SMS go to the local sink. Days of waiting for a code
 * pass in skipped time (time skips only while the test awaits a result, and never while an
 * activity runs).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { smsSinkFile } from '../src/activities/signup';
import { startSignup, verifySignup } from '../src/client/signup';
import type { SignupEvent } from '../src/core/signup-event';
import { stableHash } from '../src/pipelines/hash';
import type { MailCatcher } from '../src/devstack/mail-catcher';
import { findCaughtMail } from '../src/devstack/mail-inbox';
import { signupStatusQuery } from '../src/workflows/flows/signup';
import { maxWrongCodes } from '../src/workflows/flows/signup-verification';
import { codeInVerificationMail } from '../src/core/signup-messages';
import { historyText } from './support/history-text';
import { createTimeSkippingServer } from './support/servers';
import {
  mailsTo,
  signupConfig,
  signupDataDir,
  startTestMailCatcher,
  createShardWorker,
  waitForSignup,
  withSignupWorkers,
} from './support/signup';

const day = 24 * 60 * 60 * 1000;

describe('sign-up flow (time-skipping server, real SMTP)', function () {
  let env: TestWorkflowEnvironment;
  let catcher: MailCatcher;
  let dataDir: string;

  before(async () => {
    [env, catcher] = await Promise.all([createTimeSkippingServer(), startTestMailCatcher('signup-workflow')]);
    dataDir = signupDataDir('signup-workflow');
  });
  after(async () => {
    await Promise.all([env?.teardown(), catcher?.stop()]);
  });

  /** Starts a sign-up and waits until its verification mail is out; returns the handle, status and the mail's code. */
  async function signUpAndReadMail(config: ReturnType<typeof signupConfig>, event: SignupEvent) {
    const { handle, duplicate } = await startSignup(env.client, config, event, 'test');
    assert.equal(duplicate, false);
    const status = await waitForSignup(handle, (s) => s.state === 'waiting', `${event.userId} to wait for its code`);
    const mail = await findCaughtMail(catcher.webUrl, status.verification!.messageId);
    assert.ok(mail, `the verification mail of ${event.userId} reached the SMTP server`);
    return { handle, status, mail, code: codeInVerificationMail(mail.text)! };
  }

  it('mails a code, ignores a wrong one, and once verified sends the welcome mail and an e-mail notification', async () => {
    const config = signupConfig(undefined, catcher);
    const ada = { userId: 'ada', email: 'ada@example.com', name: 'Ada', optIn: true, preference: 'email' as const };
    await withSignupWorkers(env, config, dataDir, async () => {
      const { handle, status, mail, code } = await signUpAndReadMail(config, ada);
      assert.deepEqual(mail.to, ['ada@example.com']);
      assert.equal(mail.subject, 'Your verification code');
      assert.match(mail.text, new RegExp(`npm run cli -- verify ada ${code}`));
      assert.equal(status.taskQueue, `${config.signup.queue}-shard-${stableHash('ada') % config.signup.shards}`);

      const wrong = await verifySignup(env.client, 'ada', 'not-the-code');
      assert.equal(wrong.kind, 'wrong-code');
      assert.equal((await handle.query(signupStatusQuery)).wrongCodes, 1);

      assert.equal((await verifySignup(env.client, 'ada', code)).kind, 'verified');
      const result = await handle.result();
      assert.equal(result.state, 'done');
      assert.equal(result.notification?.channel, 'email');
      // The two branches run side by side, so their mails arrive in either order.
      const [first, ...branches] = (await mailsTo(catcher, 'ada@example.com')).map((m) => m.subject);
      assert.equal(first, 'Your verification code');
      assert.deepEqual(branches.sort(), ['Notifications are on', 'Welcome, Ada!']);
    });
  });

  it('routes an opted-in SMS user to the SMS sink and gives a user who did not opt in the welcome mail only', async () => {
    const config = signupConfig(undefined, catcher);
    const bob = {
      userId: 'bob',
      email: 'bob@example.com',
      optIn: true,
      preference: 'sms' as const,
      phone: '+15550100001',
    };
    const chloe = {
      userId: 'chloe',
      email: 'chloe@example.com',
      optIn: false,
      preference: 'sms' as const,
      phone: '+15550100002',
    };
    await withSignupWorkers(env, config, dataDir, async () => {
      for (const user of [bob, chloe]) {
        const { handle, code } = await signUpAndReadMail(config, user);
        assert.equal((await verifySignup(env.client, user.userId, code)).kind, 'verified');
        await handle.result();
      }
    });
    const sms = fs
      .readFileSync(smsSinkFile(dataDir), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { to: string; text: string });
    assert.deepEqual(
      sms.map((m) => m.to),
      ['+15550100001'],
      'one SMS, to the opted-in SMS user',
    );
    assert.match(sms[0].text, /notifications are on/);
    assert.deepEqual(
      (await mailsTo(catcher, 'bob@example.com')).map((m) => m.subject.replace(/: .*/, '')),
      ['Your verification code', 'Welcome, bob!'],
    );
    assert.deepEqual(
      (await mailsTo(catcher, 'chloe@example.com')).map((m) => m.subject.replace(/: .*/, '')),
      ['Your verification code', 'Welcome, chloe!'],
    );
  });

  it('expires after 3 days of workflow time without the code, and refuses a code afterwards', async () => {
    const config = signupConfig(undefined, catcher);
    await withSignupWorkers(env, config, dataDir, async () => {
      const { handle, code } = await signUpAndReadMail(config, { userId: 'dan', email: 'dan@example.com' });
      const result = await handle.result();
      assert.equal(result.state, 'expired');
      assert.equal(result.welcome, undefined);
      const { startTime, closeTime } = await handle.describe();
      const expiresAt = Date.parse(result.expiresAt!);
      assert.ok(expiresAt - startTime.getTime() >= 3 * day, 'the code was valid for 3 days');
      assert.ok(closeTime!.getTime() >= expiresAt, 'expired once those 3 days of workflow time had passed');
      const late = await verifySignup(env.client, 'dan', code);
      assert.equal(late.kind, 'not-waiting');
    });
    assert.equal((await mailsTo(catcher, 'dan@example.com')).length, 1, 'only the verification mail');
  });

  it('takes its expiry from the configuration (2 hours here)', async () => {
    const base = signupConfig(undefined, catcher);
    const config = { ...base, signup: { ...base.signup, verifyWithin: '2 hours' } };
    await withSignupWorkers(env, config, dataDir, async () => {
      const { handle } = await signUpAndReadMail(config, { userId: 'eve', email: 'eve@example.com' });
      assert.equal((await handle.result()).state, 'expired');
      const { startTime, closeTime } = await handle.describe();
      const ran = closeTime!.getTime() - startTime.getTime();
      assert.ok(ran >= 2 * 60 * 60 * 1000 && ran < day, `expired after 2 hours, not days (ran ${ran} ms)`);
    });
  });

  it('deduplicates a second event for the same user: one workflow, one verification mail', async () => {
    const config = signupConfig(undefined, catcher);
    const fay = { userId: 'fay', email: 'fay@example.com' };
    await withSignupWorkers(env, config, dataDir, async () => {
      const first = await signUpAndReadMail(config, fay);
      const again = await startSignup(env.client, config, fay, 'test-again');
      assert.equal(again.duplicate, true);
      assert.equal(again.handle.workflowId, first.handle.workflowId);
      assert.equal((await verifySignup(env.client, 'fay', first.code)).kind, 'verified');
      assert.equal((await first.handle.result()).state, 'done');
      assert.equal((await startSignup(env.client, config, fay, 'test-later')).duplicate, true, 'also once verified');
    });
    assert.equal(
      (await mailsTo(catcher, 'fay@example.com')).filter((m) => m.subject.startsWith('Your verification')).length,
      1,
    );
  });

  it('rejects bad events with every problem named, sending nothing; a fixed event may be submitted again', async () => {
    const config = signupConfig(undefined, catcher);
    const bad: { event: Record<string, unknown>; problems: RegExp[] }[] = [
      {
        event: { userId: 'gus', email: 'gus-at-example.com', optIn: true, preference: 'fax' },
        problems: [
          /email "gus-at-example.com" is not an e-mail address/,
          /preference "fax" is unknown; use one of: email, sms/,
        ],
      },
      { event: { userId: 'hal', name: 'Hal' }, problems: [/missing "email"/] },
      {
        event: { userId: 'ivy', email: 'ivy@example.com', optIn: true, preference: 'sms' },
        problems: [/missing "phone" \(preference "sms" needs one\)/],
      },
      { event: { userId: 'jo', email: 'jo@example.com', optIn: 'yes' }, problems: [/optIn must be true or false/] },
    ];
    await withSignupWorkers(env, config, dataDir, async () => {
      for (const { event, problems } of bad) {
        const { handle } = await startSignup(env.client, config, event as unknown as SignupEvent, 'test');
        const error = await handle.result().then(
          () => assert.fail(`${event.userId}: the bad event was accepted`),
          (e: unknown) => e,
        );
        assert.ok(error instanceof WorkflowFailedError);
        assert.ok(error.cause instanceof ApplicationFailure);
        assert.equal(error.cause.type, 'InvalidInput');
        for (const problem of problems) assert.match(error.cause.message, problem);
        assert.match(error.cause.message, new RegExp(`event of user ${event.userId} is invalid`));
      }
      // A failed sign-up may be submitted again, fixed (a verified or expired one may not).
      const fixed = await signUpAndReadMail(config, { userId: 'gus', email: 'gus@example.com' });
      assert.equal((await fixed.handle.result()).state, 'expired');
    });
    for (const address of ['gus-at-example.com', 'hal@example.com', 'ivy@example.com', 'jo@example.com']) {
      assert.deepEqual(await mailsTo(catcher, address), [], `nothing sent to ${address}`);
    }
  });

  it("holds a user's mail while their shard has no worker; the other shard's users go on", async () => {
    const config = signupConfig(undefined, catcher, 2);
    const onShard = (k: number) => ['kim', 'lee', 'max', 'ned', 'oli'].find((id) => stableHash(id) % 2 === k)!;
    const [zero, one] = [onShard(0), onShard(1)];
    const event = (userId: string) => ({ userId, email: `${userId}@example.com` });
    await withSignupWorkers(
      env,
      config,
      dataDir,
      async () => {
        const { handle: held } = await startSignup(env.client, config, event(one), 'test');
        const { handle: served } = await signUpAndReadMail(config, event(zero));
        const status = await held.query(signupStatusQuery);
        assert.equal(status.state, 'sending-verification');
        assert.equal(status.taskQueue, `${config.signup.queue}-shard-1`);
        assert.deepEqual(await mailsTo(catcher, `${one}@example.com`), []);

        // Shard 1's worker comes up: its user's mail goes out.
        const shardOne = await createShardWorker(env, config, dataDir, 1);
        await shardOne.runUntil(
          waitForSignup(held, (s) => s.state === 'waiting', `${one} to get its mail once shard 1 is served`),
        );
        assert.equal((await mailsTo(catcher, `${one}@example.com`)).length, 1);
        // Both expire (in skipped time), so no workflow is left running. One result at a time:
        // each await of a result unlocks time skipping, and the test server counts those locks.
        assert.equal((await held.result()).state, 'expired');
        assert.equal((await served.result()).state, 'expired');
      },
      [0],
    );
  });

  it('keeps the code out of the status, the result and the history; only the mail has it; 6 wrong codes lock the sign-up', async () => {
    const config = signupConfig(undefined, catcher);
    const hana = { userId: 'hana', email: 'hana@example.com', name: 'Hana' };
    await withSignupWorkers(env, config, dataDir, async () => {
      const { handle, status, mail, code } = await signUpAndReadMail(config, hana);
      assert.match(code, /^[0-9a-f]{8}$/, 'the mail body has the code');
      assert.match(mail.text, new RegExp(`npm run cli -- verify hana ${code}`));
      assert.equal(mail.subject, 'Your verification code');
      // What a Web UI user sees while the code is still good: status, history with payloads decoded.
      const waiting = await historyText(handle);
      assert.ok(waiting.includes('hana@example.com'), 'the decoded history has the payloads');
      assert.ok(!waiting.includes(code), 'no code in the history of a waiting sign-up');
      assert.ok(!JSON.stringify(status).includes(code), 'no code in the status query');

      const kinds = [];
      for (let i = 0; i < 6; i += 1) kinds.push((await verifySignup(env.client, 'hana', `wrong-${i}`)).kind);
      assert.deepEqual(kinds, ['wrong-code', 'wrong-code', 'wrong-code', 'wrong-code', 'locked', 'locked']);
      assert.equal((await verifySignup(env.client, 'hana', code)).kind, 'locked', 'not even the right code now');
      const result = await handle.result();
      assert.equal(result.state, 'locked');
      assert.equal(result.wrongCodes, maxWrongCodes);
      assert.match(result.lockedReason!, /5 wrong codes: the sign-up is locked/);
      assert.equal(result.welcome, undefined);
      assert.ok(!JSON.stringify(result).includes(code), 'no code in the result');
      assert.ok(!(await historyText(handle)).includes(code), 'no code in the whole history');
    });
    assert.equal((await mailsTo(catcher, 'hana@example.com')).length, 1, 'only the verification mail');
  });

  it('mails again, with a new code, when a new sign-up follows a terminated one for the same user', async () => {
    const config = signupConfig(undefined, catcher);
    const ivo = { userId: 'ivo', email: 'ivo@example.com' };
    await withSignupWorkers(env, config, dataDir, async () => {
      const first = await signUpAndReadMail(config, ivo);
      await first.handle.terminate('an operator ends the stuck sign-up');
      const second = await signUpAndReadMail(config, ivo); // the same workflow ID signup/ivo, a new run
      assert.notEqual(second.status.verification!.messageId, first.status.verification!.messageId);
      assert.equal(second.status.verification!.fromLedger, false);
      assert.notEqual(second.code, first.code, 'a new code');
      assert.equal(
        (await verifySignup(env.client, 'ivo', first.code)).kind,
        'wrong-code',
        "the old run's code is void",
      );
      assert.equal((await verifySignup(env.client, 'ivo', second.code)).kind, 'verified');
      assert.equal((await second.handle.result()).state, 'done');
    });
    assert.deepEqual(
      (await mailsTo(catcher, 'ivo@example.com')).map((m) => m.subject),
      ['Your verification code', 'Your verification code', 'Welcome, ivo!'],
    );
  });
});
