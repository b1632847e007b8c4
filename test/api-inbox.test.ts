/**
 * The inbox watcher on the dev server: a file dropped into a watched folder starts the topic's
 * pipelines once its size has settled, and exactly once: also across a restart of the watcher,
 * and when its ledger is lost (the event router's workflow IDs then refuse the repeat). A file
 * whose publish keeps failing holds up no other file and ends in the poison list.
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
import { BlobStore } from '../src/storage/blob-store';
import { waitFor } from '../src/infra/wait';
import { readLedgerEntries } from '../src/sources/inbox-ledger';
import type { PipelineEvent } from '../src/core/pipeline-event';
import type { PoisonReason } from '../src/sources/inbox-poison';
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

  /** The API's event router, for watchers driven scan by scan (so nothing depends on timing). */
  function eventRouter(): EventRouter {
    const catalog = loadPipelineCatalog(api.pipelinesDir);
    const subscriptions = loadSubscriptions(api.subscriptionsFile, catalog, api.dataDir, subscribableFlows);
    const store = new BlobStore(path.join(api.dataDir, 'blobs'));
    const flows = createFlowSubscribers({ client: env.client, config: api.config, store, baseDir: api.dataDir });
    return new EventRouter(env.client, api.config, catalog, subscriptions, flows);
  }

  it('publishes a file only once its size stops changing', async () => {
    const router = eventRouter();
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

  it('goes on past a file whose publish keeps failing, retries a transient failure, and poisons the broken file', async () => {
    const router = eventRouter();
    const folder = path.join(api.dataDir, 'inbox', 'poison');
    fs.mkdirSync(folder, { recursive: true });
    const scanLedger = path.join(api.dataDir, 'ledgers', 'poison.jsonl');
    const attempts = new Map<string, number>();
    // Faults at the watcher's seam (e.g. a full disk while one file is stored); the rest is the real router.
    const publish = async (topic: string, event: PipelineEvent) => {
      const name = event.data.name as string;
      attempts.set(name, (attempts.get(name) ?? 0) + 1);
      if (name === 'a-broken.bin') throw new Error('ENOSPC: no space left on device, write');
      if (name === 'c-flaky.bin' && attempts.get(name)! <= 2) throw new Error('the blob store is busy');
      return router.publish(topic, event);
    };
    const lines: string[] = [];
    const watcher = new InboxWatcher({
      folder,
      topic: 'uploads',
      ledgerFile: scanLedger,
      publish,
      settleMs: 0,
      retry: { maxFailures: 3, initialDelayMs: 0 },
      log: (line) => lines.push(line),
    });
    for (const name of ['a-broken.bin', 'b-good.bin', 'c-flaky.bin']) fs.writeFileSync(path.join(folder, name), name);
    const published = async () => (await readLedgerEntries(scanLedger)).map((e) => path.basename(e.path)).sort();
    await withPipelineWorkers(env, api.config, [], async () => {
      await watcher.scan(); // sees the files
      await watcher.scan(); // they have settled: a fails, b is published, c fails once
      assert.deepEqual(await published(), ['b-good.bin'], 'the file after the broken one is published');
      await watcher.scan(); // a fails again, c fails twice
      await watcher.scan(); // a fails a third time → poison list; c goes through
      await watcher.scan(); // nothing left to do
      assert.deepEqual(await published(), ['b-good.bin', 'c-flaky.bin']);
      assert.equal(attempts.get('c-flaky.bin'), 3, 'the transient failure was retried until it went through');
      assert.equal(attempts.get('a-broken.bin'), 3, 'the broken file is not tried after the limit');

      assert.deepEqual(fs.readdirSync(folder).sort(), ['.failed', 'b-good.bin', 'c-flaky.bin']);
      const failed = path.join(folder, '.failed');
      assert.deepEqual(fs.readdirSync(failed).sort(), ['a-broken.bin', 'a-broken.bin.reason.json']);
      assert.equal(fs.readFileSync(path.join(failed, 'a-broken.bin'), 'utf8'), 'a-broken.bin', 'the file is kept');
      const reason = JSON.parse(fs.readFileSync(path.join(failed, 'a-broken.bin.reason.json'), 'utf8')) as PoisonReason;
      assert.equal(reason.file, path.join(folder, 'a-broken.bin'));
      assert.equal(reason.failures, 3);
      assert.match(reason.error, /ENOSPC: no space left on device/);
      assert.ok(
        lines.some((l) => /a-broken\.bin: publishing failed 3 times, giving up: moved to .*\.failed/.test(l)),
        `a log line says where the file went:\n${lines.join('\n')}`,
      );

      const [flaky] = (await readLedgerEntries(scanLedger)).filter((e) => e.path.endsWith('c-flaky.bin'));
      const done = await api.finished(`/pipelines/inbox-greet/runs/event-${flaky.eventId}`);
      assert.equal(done.body.status, 'COMPLETED');
    });
  });
});
