/**
 * The inbox watcher on the dev server: a file dropped into a watched folder starts the topic's
 * pipelines once its size has settled, and exactly once: also across a restart of the watcher,
 * and when its ledger is lost (the event router's workflow IDs then refuse the repeat).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { inboxLedgerFile } from '../src/api/services';
import { EventRouter } from '../src/client/event-router';
import { createFlowSubscribers, subscribableFlows } from '../src/client/flow-subscribers';
import { loadPipelineCatalog } from '../src/pipelines/catalog';
import { loadSubscriptions } from '../src/pipelines/subscriptions';
import { BlobStore } from '../src/runtime/blob-store';
import { waitFor } from '../src/runtime/wait';
import { readLedgerEntries } from '../src/sources/inbox-ledger';
import { inboxEventId, InboxWatcher } from '../src/sources/inbox-watcher';
import { TestApi } from './support/api';
import { withPipelineWorkers } from './support/pipeline-workers';
import { sharedDevServer } from './support/servers';

describe('inbox watcher', function () {
  let env: TestWorkflowEnvironment;
  let api: TestApi;
  let ledgerFile: string;
  before(async () => {
    env = await sharedDevServer();
    api = await new TestApi(env, 'inbox').start();
    ledgerFile = inboxLedgerFile(api.dataDir, api.inbox);
  });
  after(async () => {
    await api.stop();
    api.cleanUp();
  });

  const ledger = () => readLedgerEntries(ledgerFile);
  const waitForLedger = (count: number) =>
    waitFor(`${count} ledger entries`, async () => (await ledger()).length >= count, 30_000, 100);

  it('publishes a file only once its size stops changing', async () => {
    // A watcher driven scan by scan, so "still growing" does not depend on timing.
    const catalog = loadPipelineCatalog(api.pipelinesDir);
    const subscriptions = loadSubscriptions(api.subscriptionsFile, catalog, api.dataDir, subscribableFlows);
    const store = new BlobStore(path.join(api.dataDir, 'blobs'));
    const flows = createFlowSubscribers({ client: env.client, config: api.config, store, baseDir: api.dataDir });
    const router = new EventRouter(env.client, api.config, catalog, subscriptions, flows);
    const folder = path.join(api.dataDir, 'inbox', 'scan-by-scan');
    fs.mkdirSync(folder, { recursive: true });
    const scanLedger = path.join(api.dataDir, 'ledgers', 'scan-by-scan.jsonl');
    const watcher = new InboxWatcher({
      folder,
      topic: 'uploads',
      ledgerFile: scanLedger,
      publish: (topic, event) => router.publish(topic, event),
      settleMs: 0,
    });
    const file = path.join(folder, 'upload.bin');
    await withPipelineWorkers(env, api.config, [], async () => {
      fs.writeFileSync(file, 'first half;');
      await watcher.scan();
      fs.appendFileSync(file, ' second half');
      await watcher.scan();
      assert.deepEqual(await readLedgerEntries(scanLedger), [], 'nothing published while the file grows');
      await watcher.scan();
      const stat = fs.statSync(file);
      const id = inboxEventId(file, stat.size, stat.mtimeMs);
      assert.deepEqual(
        (await readLedgerEntries(scanLedger)).map((e) => [e.eventId, e.bytes, e.runs]),
        [[id, 23, [{ workflowId: `inbox-greet/event-${id}`, started: true }]]],
      );
      const done = await api.finished(`/pipelines/inbox-greet/runs/event-${id}`);
      assert.deepEqual(done.body.reduce.count.sums, { bytes: 23 }, 'the whole file, not the half');
    });
  });

  it('submits a dropped file once, also across a restart of the watcher and after losing its ledger', async () => {
    await withPipelineWorkers(env, api.config, [], async () => {
      const first = path.join(api.inbox, 'report.pdf');
      fs.writeFileSync(first, 'pretend this is a PDF\n');
      fs.writeFileSync(path.join(api.inbox, '.partial-upload'), 'hidden files are skipped\n');
      await waitForLedger(1);
      const [entry] = await ledger();
      assert.deepEqual(entry.runs, [{ workflowId: `inbox-greet/event-${entry.eventId}`, started: true }]);
      assert.equal(entry.path, first);
      const done = await api.finished(`/pipelines/inbox-greet/runs/event-${entry.eventId}`);
      assert.equal(done.body.status, 'COMPLETED');

      // Restart: the ledger says report.pdf was published; only the new file is.
      await api.stop();
      await api.start();
      const second = path.join(api.inbox, 'photo.jpg');
      fs.writeFileSync(second, 'pretend this is a photo\n');
      await waitForLedger(2);
      assert.deepEqual(
        (await ledger()).map((e) => path.basename(e.path)),
        ['report.pdf', 'photo.jpg'],
        'each file published once',
      );

      // Ledger lost (e.g. a crash before it was written): the files are published again, and the
      // router's workflow IDs refuse both repeats.
      await api.stop();
      fs.rmSync(ledgerFile);
      await api.start();
      await waitForLedger(2);
      const repeats = await ledger();
      assert.deepEqual(repeats.map((e) => [path.basename(e.path), e.runs[0].started]).sort(), [
        ['photo.jpg', false],
        ['report.pdf', false],
      ]);
      const executions = [];
      const query = `WorkflowId = 'inbox-greet/event-${entry.eventId}'`;
      for await (const e of env.client.workflow.list({ query })) executions.push(e);
      assert.equal(executions.length, 1, 'one run of report.pdf');
    });
  });
});
