import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { signupActivitiesFor } from '../../src/activities/signup';
import type { BatchConfig } from '../../src/infra/config';
import { MailCatcher, startMailCatcher } from '../../src/devstack/mail-catcher';
import { CaughtMail, listCaughtMails } from '../../src/devstack/mail-inbox';
import { repoRoot } from '../../src/infra/paths';
import { freePort, waitFor } from '../../src/infra/wait';
import { autoHeartbeat } from '../../src/workers/auto-heartbeat';
import { signup, SignupStatus, signupStatusQuery } from '../../src/workflows/flows/signup';
import { shardQueue } from '../../src/workflows/patterns/sharder';
import { isolatedConfig } from './config';
import { sharedWorkflowBundle } from './servers';

/** A mail catcher (maildev) of one suite, on free ports; its log in test-output/<name>/. */
export async function startTestMailCatcher(name: string): Promise<MailCatcher> {
  const smtpPort = await freePort();
  let webPort = await freePort();
  while (webPort === smtpPort) webPort = await freePort();
  return startMailCatcher({ smtpPort, webPort, logFile: path.join(repoRoot, 'test-output', name, 'maildev.log') });
}

/** A fresh folder for a suite's ledger and SMS sink, kept after the run for a look. */
export function signupDataDir(name: string): string {
  const dir = path.join(repoRoot, 'test-output', name, 'data');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** An isolated config whose mail goes to `catcher` and whose sign-up shard queues are this test's own. */
export function signupConfig(address: string | undefined, catcher: MailCatcher, shards = 3): BatchConfig {
  const config = isolatedConfig(address);
  return {
    ...config,
    mail: { ...config.mail, smtpHost: '127.0.0.1', smtpPort: catcher.smtpPort, uiUrl: catcher.webUrl },
    signup: { ...config.signup, queue: `signup-${config.queues.workflow}`, shards },
  };
}

/** A worker of one sign-up shard queue with the real mail and SMS activities (ledger and SMS sink under `dataDir`). */
export function createShardWorker(
  env: TestWorkflowEnvironment,
  config: BatchConfig,
  dataDir: string,
  shard: number,
): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: config.namespace,
    taskQueue: shardQueue(config.signup.queue, shard),
    activities: signupActivitiesFor(config, dataDir),
    interceptors: { activity: [autoHeartbeat] },
  });
}

/**
 * In-process workers for sign-up tests: the workflow queue and the shard queues `serve` (default:
 * all). Let `body` finish its sign-ups: the time-skipping server holds up the shutdown of a
 * workflow worker whose workflows are still running.
 */
export async function withSignupWorkers<T>(
  env: TestWorkflowEnvironment,
  config: BatchConfig,
  dataDir: string,
  body: () => Promise<T>,
  serve: number[] = [...Array(config.signup.shards).keys()],
): Promise<T> {
  const bundle = await sharedWorkflowBundle();
  const workers = await Promise.all([
    Worker.create({
      connection: env.nativeConnection,
      namespace: config.namespace,
      taskQueue: config.queues.workflow,
      workflowBundle: bundle,
    }),
    ...serve.map((k) => createShardWorker(env, config, dataDir, k)),
  ]);
  const run = workers.reduce<() => Promise<T>>((inner, worker) => () => worker.runUntil(inner()), body);
  return run();
}

/** Waits until a sign-up's status satisfies `ready` (e.g. its verification mail is out) and returns it. */
export async function waitForSignup(
  handle: WorkflowHandle<typeof signup>,
  ready: (status: SignupStatus) => boolean,
  what: string,
): Promise<SignupStatus> {
  let status: SignupStatus | undefined;
  await waitFor(
    what,
    async () => {
      status = await handle.query(signupStatusQuery);
      return ready(status);
    },
    30_000,
    100,
  );
  return status!;
}

/** The caught mails to `address`, oldest first. */
export async function mailsTo(catcher: MailCatcher, address: string): Promise<CaughtMail[]> {
  return (await listCaughtMails(catcher.webUrl)).filter((m) => m.to.includes(address));
}
