/**
 * The sign-up across hosts that share nothing but Temporal and the S3 bucket (the real Versity
 * gateway): host A is SIGKILLed right after the SMTP server accepted the verification mail and the
 * ledger entry went into the bucket; host B, with its own empty data folder, retries the send,
 * finds the entry in the bucket and sends nothing, and checks the code host A mailed (the code
 * secret is in the bucket too). Exactly one verification mail reaches the real mail catcher.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ledgerKey } from '../src/activities/signup/ledger';
import { fingerprintKey, secretKey } from '../src/activities/signup/verification-secret';
import { startSignup, verifySignup } from '../src/client/signup';
import type { MailCatcher } from '../src/devstack/mail-catcher';
import { findCaughtMail } from '../src/devstack/mail-inbox';
import { waitFor } from '../src/infra/wait';
import { buildWorkflowBundle } from '../src/workers/workflow-bundle';
import { codeInVerificationMail } from '../src/core/signup-messages';
import { startHost, TestHost } from './support/hosts';
import { startTestS3, TestS3 } from './support/s3';
import { sharedDevServer } from './support/servers';
import { mailsTo, signupConfig, startTestMailCatcher, waitForSignup } from './support/signup';

describe('sign-up on two hosts with the ledger in S3', function () {
  let env: TestWorkflowEnvironment;
  let catcher: MailCatcher;
  let s3: TestS3;
  const hosts: TestHost[] = [];

  before(async () => {
    [env, catcher, s3] = await Promise.all([
      sharedDevServer(),
      startTestMailCatcher('signup-hosts'),
      startTestS3('signup-hosts'),
    ]);
  });
  after(async () => {
    await Promise.all(hosts.map((h) => h.worker.stop()));
    await Promise.all([catcher?.stop(), s3?.stop()]);
  });

  it('host A killed after the ledger write, host B retries: exactly one mail, and B checks the code A mailed', async () => {
    const config = signupConfig(env.address, catcher, 2);
    const host = async (name: string, extra: NodeJS.ProcessEnv) => {
      const started = await startHost({
        name,
        config,
        storageEnv: s3.env,
        roles: 'workflows',
        shards: `${config.signup.queue}:${config.signup.shards}`,
        workflowBundlePath: await buildWorkflowBundle(),
        env: { BATCH_SIGNUP_SECRET: '', ...extra },
      });
      hosts.push(started);
      return started;
    };
    // Host A holds every send right after the SMTP server accepted it and the ledger recorded it.
    const hostA = await host('signup-a', { BATCH_FAULT_PAUSE: 'after-mail-sent' });
    const user = { userId: `hosts-${process.pid}`, email: `hosts-${process.pid}@example.com` };
    const { handle } = await startSignup(env.client, config, user, 'hosts');
    await waitFor(
      'host A to hold after sending the verification mail',
      async () => fs.readFileSync(hostA.logFile, 'utf8').includes('fault point after-mail-sent reached'),
      60_000,
      100,
    );
    assert.equal((await mailsTo(catcher, user.email)).length, 1, 'the SMTP server has the mail');
    const firstRunId = (await handle.describe()).runId; // never continued as new: the first run
    const entryKey = ledgerKey({ workflowId: handle.workflowId, runId: firstRunId, step: 'verification' });
    const entry = JSON.parse((await s3.store.getBytes(entryKey))?.toString() ?? 'null');
    assert.equal(entry?.runId, firstRunId, `the ledger entry is in the bucket at ${entryKey}`);
    hostA.worker.kill(); // SIGKILL: no clean-up, no activity completion
    await hostA.worker.exited;

    const hostB = await host('signup-b', {});
    // The send is retried once its heartbeat times out (10 s), on host B.
    const status = await waitForSignup(handle, (s) => s.state === 'waiting', 'the retried send to complete');
    assert.equal(status.verification?.fromLedger, true, 'host B found the delivery in the bucket');
    assert.equal((await mailsTo(catcher, user.email)).length, 1, 'exactly one verification mail');

    // Host B checks the code host A made: both read the one secret in the bucket.
    const mail = await findCaughtMail(catcher.webUrl, status.verification!.messageId);
    assert.equal((await verifySignup(env.client, user.userId, codeInVerificationMail(mail!.text)!)).kind, 'verified');
    assert.equal((await handle.result()).state, 'done');
    assert.deepEqual(
      (await mailsTo(catcher, user.email)).map((m) => m.subject.replace(/: .*/, '')),
      ['Your verification code', `Welcome, ${user.userId}!`],
    );
    assert.ok(await s3.store.head(secretKey), 'the code secret is in the bucket');
    assert.ok(await s3.store.head(fingerprintKey));
    for (const h of [hostA, hostB]) {
      const kept = h.files().filter((f) => /^(ledgers|secrets)\//.test(f));
      assert.deepEqual(kept, [], `no ledger or secret on host ${h.name}'s own disk`);
    }
  });
});
