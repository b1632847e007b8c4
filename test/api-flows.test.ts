/**
 * Flows as subscribers of the event router, on the dev server with real ffmpeg and real SMTP: a
 * video dropped into the videos inbox is transcoded once (also across a restart of the watcher and
 * after losing its ledger), a sign-up event published twice starts one sign-up and sends one
 * verification mail, and events a flow cannot take are refused with a 400 that says why.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { reportActivities, stageActivities } from '../src/activities/pipeline';
import { createTranscodeActivities } from '../src/activities/transcode';
import { inboxLedgerFile, startApiServices } from '../src/api/services';
import { EventRouter } from '../src/client/event-router';
import { createFlowSubscribers, subscribableFlows } from '../src/client/flow-subscribers';
import { verifySignup } from '../src/client/signup';
import { loadPipelineCatalog } from '../src/pipelines/catalog';
import { loadSubscriptions } from '../src/pipelines/subscriptions';
import { BlobStore } from '../src/storage/blob-store';
import type { MailCatcher } from '../src/devstack/mail-catcher';
import { repoRoot } from '../src/infra/paths';
import { generateSampleVideos } from '../src/devstack/sample-videos';
import { waitFor } from '../src/infra/wait';
import { readLedgerEntries } from '../src/sources/inbox-ledger';
import { InputPathError } from '../src/sources/input-roots';
import { readResultLines } from '../src/activities/pipeline/results';
import type { ResultLine } from '../src/activities/pipeline/results-types';
import { renditionUri } from '../src/activities/transcode/renditions';
import type { RenditionReport } from '../src/activities/transcode/upload-item';
import type { pipelineRun, PipelineRunResult } from '../src/workflows/pipeline';
import type { signup } from '../src/workflows/flows/signup';
import { codeInVerificationMail } from '../src/core/signup-messages';
import { TestApi } from './support/api';
import { sharedDevServer } from './support/servers';
import {
  mailsTo,
  signupConfig,
  signupDataDir,
  startTestMailCatcher,
  waitForSignup,
  withSignupWorkers,
} from './support/signup';
import { withWorkers } from './support/workers';

/** Every execution the server holds under a workflow ID (each start is one), from visibility. */
async function executionsOf(env: TestWorkflowEnvironment, workflowId: string) {
  const executions = [];
  for await (const e of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) executions.push(e);
  return executions;
}

/** Whether a workflow was ever started under this ID (asked of the server itself, no visibility lag). */
async function started(env: TestWorkflowEnvironment, workflowId: string): Promise<boolean> {
  return env.client.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      () => true,
      (error: unknown) => {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      },
    );
}

describe('event router: flows (transcode from an inbox, sign-up from the API)', function () {
  let env: TestWorkflowEnvironment;
  let catcher: MailCatcher;
  let api: TestApi;
  let store: BlobStore;
  let video: string;
  before(async () => {
    [env, catcher] = await Promise.all([sharedDevServer(), startTestMailCatcher('api-flows')]);
    api = await new TestApi(env, 'flows', { config: signupConfig(env.address, catcher, 2) }).start();
    store = new BlobStore(path.join(api.dataDir, 'blobs')); // where the router puts uploads
    // A tiny real video (cached between test runs).
    [video] = await generateSampleVideos(path.join(repoRoot, 'test-output', 'api-flows-inputs'), () => undefined, [
      { source: 'testsrc2', width: 320, height: 180, seconds: 1, fps: 10 },
    ]);
  });
  after(async () => {
    await api?.stop();
    api?.cleanUp();
    await catcher?.stop();
  });

  it('transcodes a video dropped into the inbox once, also across a restart and after losing the ledger', async () => {
    const ledgerFile = inboxLedgerFile(api.dataDir, api.videoInbox);
    const ledger = () => readLedgerEntries(ledgerFile);
    const waitForLedger = (count: number) =>
      waitFor(`${count} ledger entries`, async () => (await ledger()).length >= count, 30_000, 100);
    // A transcode run (on the pipeline engine) of one upload: its line in the run's results parts.
    const result = async (workflowId: string): Promise<ResultLine> => {
      const done: PipelineRunResult = await env.client.workflow.getHandle<typeof pipelineRun>(workflowId).result();
      const lines: ResultLine[] = [];
      for await (const line of readResultLines(done.results!.dir)) lines.push(line);
      assert.equal(lines.length, 1);
      return lines[0];
    };
    const renditionsOf = (line: ResultLine) => (line.data?.renditions ?? []) as RenditionReport[];
    const activities = createTranscodeActivities(store);
    await withWorkers(env, api.config, { video: activities, image: activities }, async () => {
      fs.copyFileSync(video, path.join(api.videoInbox, 'clip.mp4'));
      await waitForLedger(1);
      const [entry] = await ledger();
      const workflowId = `transcode/event-${entry.eventId}`;
      assert.deepEqual(entry.runs, [{ workflowId, started: true }]);
      const outcome = await result(workflowId);
      assert.ok(outcome.status === 'completed', JSON.stringify(outcome));
      // A 320x180 source: its own size, never upscaled (docs/flows/transcode.md).
      assert.deepEqual(
        renditionsOf(outcome).map((r) => [r.rendition, r.reused]),
        ['source-size', 'preview-gif', 'poster'].map((r) => [r, false]),
      );
      for (const r of renditionsOf(outcome)) {
        const file = store.pathOf(renditionUri(String(outcome.data!.sha256), r.rendition));
        assert.ok(fs.statSync(file).size > 1000, `${r.rendition} is a real file`);
      }
      assert.ok(fs.existsSync(store.pathOf(String(outcome.data!.manifestUri))), 'the manifest is written');

      // Restart: clip.mp4 is in the ledger, only the new file is published; the same bytes under
      // another name are a new event, whose run finds the renditions already made.
      await api.stop();
      await api.start();
      fs.copyFileSync(video, path.join(api.videoInbox, 'same-bytes.mp4'));
      await waitForLedger(2);
      const entries = await ledger();
      assert.deepEqual(
        entries.map((e) => path.basename(e.path)),
        ['clip.mp4', 'same-bytes.mp4'],
        'each file published once',
      );
      const again = await result(entries[1].runs[0].workflowId);
      assert.ok(again.status === 'completed', JSON.stringify(again));
      assert.ok(
        renditionsOf(again).every((r) => r.reused),
        'the same upload is not rendered twice',
      );

      // Ledger lost: both files are published again, and the router finds their runs.
      await api.stop();
      fs.rmSync(ledgerFile);
      await api.start();
      await waitForLedger(2);
      assert.deepEqual((await ledger()).map((e) => [path.basename(e.path), e.runs]).sort(), [
        ['clip.mp4', [{ workflowId, started: false }]],
        ['same-bytes.mp4', [{ workflowId: entries[1].runs[0].workflowId, started: false }]],
      ]);
      assert.equal((await executionsOf(env, workflowId)).length, 1, 'one transcode run of clip.mp4');
    });
  });

  it('a sign-up event published twice starts one sign-up, which sends one verification mail', async () => {
    const userId = `ada-${process.pid}`;
    const email = `${userId}@example.test`;
    const event = { id: `signup-${userId}`, data: { userId, email, optIn: false } };
    const dataDir = signupDataDir('api-flows');
    // The audit pipeline's stages; its workflows run on the sign-up workers' workflow worker.
    const stages = await Worker.create({
      connection: env.nativeConnection,
      namespace: api.config.namespace,
      taskQueue: api.config.queues.stages,
      activities: { ...stageActivities, ...reportActivities },
    });
    await stages.runUntil(
      withSignupWorkers(env, api.config, dataDir, async () => {
        const first = await api.call('POST', '/topics/new-users/events', { body: event });
        assert.equal(first.status, 202, JSON.stringify(first.body));
        const runs = first.body.runs;
        assert.deepEqual(
          runs.map((r: Record<string, unknown>) => [r.pipeline ?? `flow ${r.flow}`, r.workflowId, r.started]),
          [
            ['flows-audit', `flows-audit/event-${event.id}`, true],
            ['flow signup', `signup/${userId}`, true],
          ],
        );
        assert.equal(runs[1].run, `event-${event.id}`);
        assert.match(runs[1].webUi, new RegExp(`/workflows/signup%2F${userId}$`));

        const second = await api.call('POST', '/topics/new-users/events', { body: event });
        assert.equal(second.status, 200);
        assert.deepEqual(
          second.body.runs.map((r: Record<string, unknown>) => [r.workflowId, r.started]),
          runs.map((r: Record<string, unknown>) => [r.workflowId, false]),
        );
        // Another event about the same user: a new audit run, but still the one sign-up.
        const other = await api.call('POST', '/topics/new-users/events', {
          body: { id: `signup-${userId}-again`, data: event.data },
        });
        assert.equal(other.status, 202);
        assert.deepEqual(
          other.body.runs.map((r: Record<string, unknown>) => [r.workflowId, r.started]),
          [
            [`flows-audit/event-signup-${userId}-again`, true],
            [`signup/${userId}`, false],
          ],
        );

        const handle = env.client.workflow.getHandle<typeof signup>(`signup/${userId}`);
        await waitForSignup(handle, (s) => s.state === 'waiting', 'the verification mail to go out');
        const [mail, ...more] = await mailsTo(catcher, email);
        assert.deepEqual(more, [], 'one mail');
        assert.equal(mail.subject, 'Your verification code'); // the code is in the body only (issue 11)

        // The user takes the code from the mail: the sign-up the event started completes.
        assert.equal((await verifySignup(env.client, userId, codeInVerificationMail(mail.text)!)).kind, 'verified');
        assert.equal((await handle.result()).state, 'done');
        assert.equal((await executionsOf(env, `signup/${userId}`)).length, 1, 'one sign-up of the user');
        const verification = (await mailsTo(catcher, email)).filter((m) => m.subject.startsWith('Your verification'));
        assert.equal(verification.length, 1, 'one verification mail in the end');
        for (const run of [...runs, ...other.body.runs].filter((r: { status?: string }) => r.status))
          assert.equal((await api.finished(run.status)).body.status, 'COMPLETED', `${run.workflowId} ran too`);
      }),
    );
  });

  it('refuses to start with an inbox outside the input roots, whose every file would be refused', async () => {
    const config = { ...api.config, api: { ...api.config.api, inputRoots: [api.inputs] } };
    await assert.rejects(
      startApiServices({
        client: env.client,
        config,
        dataDir: api.dataDir,
        log: () => undefined,
        pipelinesDir: api.pipelinesDir,
        subscriptions: api.subscriptionsFile,
      }),
      /^Error: Inbox folder\(s\) .*inbox\/drop, .*inbox\/videos lie outside the input roots \(.*inputs\), so their files would be refused; add them to BATCH_INPUT_ROOTS/,
    );
  });

  describe('refuses an event a flow cannot take with a 400 that says why, starting nothing', () => {
    it('a video path outside the input roots', async () => {
      const secret = path.join(api.outside, 'secret.mp4');
      fs.copyFileSync(video, secret);
      const answer = await api.call('POST', '/topics/videos/events', { body: { id: 'v-out', data: { path: secret } } });
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error, 'PathOutsideRoots');
      assert.match(answer.body.message, /^data\.path .*secret\.mp4 is outside the input roots\. Paths must lie under/);

      // The router checks too, whoever publishes (the inbox watcher calls it directly).
      const catalog = loadPipelineCatalog(api.pipelinesDir);
      const subscriptions = loadSubscriptions(api.subscriptionsFile, catalog, api.dataDir, subscribableFlows);
      const flows = createFlowSubscribers({ client: env.client, config: api.config, store, baseDir: api.dataDir });
      const router = new EventRouter(env.client, api.config, catalog, subscriptions, flows);
      await assert.rejects(
        router.publish('videos', { id: 'v-out-2', data: { path: secret } }),
        (error: Error) => error instanceof InputPathError && /outside the input roots/.test(error.message),
      );
      for (const id of ['v-out', 'v-out-2'])
        assert.equal(await started(env, `transcode/event-${id}`), false, 'nothing started');
    });

    it('a video event without a path', async () => {
      const answer = await api.call('POST', '/topics/videos/events', { body: { id: 'v-none', data: { name: 'x' } } });
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error, 'BadEvent');
      assert.match(answer.body.message, /^The transcode flow needs data\.path, the video file to transcode/);
    });

    it('a sign-up event without a usable user and address', async () => {
      const answer = await api.call('POST', '/topics/new-users/events', {
        body: { id: 'bad-signup', data: { email: 'not-an-address' } },
      });
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error, 'BadEvent');
      assert.match(
        answer.body.message,
        /^The sign-up flow cannot take this event: missing "userId"; every event needs one; email "not-an-address" is not an e-mail address.* Send data like \{"userId"/,
      );
      assert.equal(await started(env, 'flows-audit/event-bad-signup'), false, 'not even the pipeline started');
    });
  });
});
