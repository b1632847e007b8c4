/**
 * The duplicate-mail case of worker failure: a worker process is SIGKILLed after the SMTP server
 * accepted the verification mail (and the ledger recorded it) but before the activity completed.
 * Temporal retries the activity on a new worker, which finds the ledger entry: the user gets
 * exactly one verification mail, and the flow goes on from there.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startSignup, verifySignup } from '../src/client/signup';
import type { MailCatcher } from '../src/devstack/mail-catcher';
import { findCaughtMail } from '../src/devstack/mail-inbox';
import { repoRoot } from '../src/infra/paths';
import { waitFor } from '../src/infra/wait';
import { startWorkerProcess, WorkerProcessOptions } from '../src/infra/worker-process';
import { buildWorkflowBundle } from '../src/workers/workflow-bundle';
import { codeInVerificationMail } from '../src/core/signup-messages';
import { sharedDevServer } from './support/servers';
import { mailsTo, signupConfig, signupDataDir, startTestMailCatcher, waitForSignup } from './support/signup';

describe('sign-up: worker killed after the SMTP server accepted the mail', function () {
  let env: TestWorkflowEnvironment;
  let catcher: MailCatcher;

  before(async () => {
    [env, catcher] = await Promise.all([sharedDevServer(), startTestMailCatcher('signup-crash')]);
  });
  after(async () => {
    await catcher?.stop();
  });

  it('delivers exactly one verification mail after a SIGKILL and a new worker', async () => {
    const config = signupConfig(env.address, catcher, 2);
    const dataDir = signupDataDir('signup-crash');
    const logDir = path.join(repoRoot, 'test-output', 'signup-crash', 'logs');
    const worker = (name: string, env: NodeJS.ProcessEnv): Promise<WorkerProcessOptions> =>
      buildWorkflowBundle().then((bundle) => ({
        name,
        config,
        workflowBundlePath: bundle,
        logFile: path.join(logDir, `${name.replace(/\W+/g, '-')}.log`),
        roles: 'workflows',
        shards: `${config.signup.queue}:${config.signup.shards}`,
        env: { BATCH_DATA_DIR: dataDir, ...env },
      }));
    // Worker A holds every send right after the SMTP server accepted it and the ledger recorded it.
    const optionsA = await worker('worker A', { BATCH_FAULT_PAUSE: 'after-mail-sent' });
    const offset = fs.existsSync(optionsA.logFile) ? fs.statSync(optionsA.logFile).size : 0;
    const workerA = await startWorkerProcess(optionsA);

    const user = { userId: `crash-${process.pid}`, email: `crash-${process.pid}@example.com` };
    const { handle } = await startSignup(env.client, config, user, 'crash');
    await waitFor(
      'worker A to hold after sending the verification mail',
      async () =>
        fs.readFileSync(optionsA.logFile, 'utf8').slice(offset).includes('fault point after-mail-sent reached'),
      60_000,
      100,
    );
    assert.equal((await mailsTo(catcher, user.email)).length, 1, 'the SMTP server has the mail');
    workerA.kill();
    await workerA.exited;

    const workerB = await startWorkerProcess(await worker('worker B', {}));
    try {
      // The activity is retried once its heartbeat times out (10 s), on worker B.
      const status = await waitForSignup(handle, (s) => s.state === 'waiting', 'the retried send to complete');
      assert.equal(status.verification?.fromLedger, true, 'the retry found the delivery in the ledger');
      const mails = await mailsTo(catcher, user.email);
      assert.equal(mails.length, 1, 'exactly one verification mail');

      const mail = await findCaughtMail(catcher.webUrl, status.verification!.messageId);
      assert.equal((await verifySignup(env.client, user.userId, codeInVerificationMail(mail!.text)!)).kind, 'verified');
      assert.equal((await handle.result()).state, 'done');
      assert.deepEqual(
        (await mailsTo(catcher, user.email)).map((m) => m.subject.replace(/: .*/, '')),
        ['Your verification code', `Welcome, crash-${process.pid}!`],
      );
    } finally {
      await workerB.stop();
    }
  });
});
