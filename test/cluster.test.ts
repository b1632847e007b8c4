/**
 * The system on a real Temporal cluster, as operators run one: PostgreSQL 15, the frontend,
 * history, matching and worker services as separate processes (src/cluster/), the Web UI server.
 * One cluster for the suite. The thumbnailer on real media, the sign-up flow with real SMTP and
 * a 4-stage pipeline of 20,000 items complete on it; visibility answers the project's queries; and
 * with a service SIGKILLed (history, matching, frontend) or PostgreSQL restarted mid-run, every run
 * still completes with every item exactly once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { signupFlow } from '../src/cli/flows/signup';
import { Cluster, freeClusterPorts } from '../src/cluster/cluster';
import { schemaVersion } from '../src/cluster/schema';
import { TemporalService } from '../src/cluster/temporal-services';
import { pipelineWorkflowId } from '../src/client/pipeline-run';
import { startThumbnailerRun } from '../src/client/thumbnailer';
import { BatchPipeline, BatchRun } from '../src/core/search-attributes';
import type { PipelineSpec } from '../src/pipelines/spec';
import { BatchConfig, loadConfig } from '../src/infra/config';
import type { MailCatcher } from '../src/devstack/mail-catcher';
import type { ManagedProcess } from '../src/infra/processes';
import { sleep, waitFor } from '../src/infra/wait';
import { startWorkerProcess } from '../src/infra/worker-process';
import { collect, ListSource } from '../src/sources';
import { buildWorkflowBundle } from '../src/workers/workflow-bundle';
import { CliRun, executionsOfRun, itemsDone, startCli, waitForProgress } from './support/cluster-run';
import { launchHeadlessChromium, waitForTexts } from './support/browser';
import { outputFolder, sampleVideos } from './support/media';
import { signupDataDir, startTestMailCatcher } from './support/signup';

const spec: PipelineSpec = {
  name: 'cluster-noop',
  start: 'a',
  concurrency: 8,
  // Progress counts the items of finished partitions: 20 of them in the big run, so a fault lands mid-run.
  partitionSize: 1000,
  stages: {
    a: { kind: 'activity', activity: 'noop', batchSize: 100, next: 'b' },
    b: { kind: 'activity', activity: 'noop', batchSize: 100, next: 'c' },
    c: { kind: 'activity', activity: 'noop', batchSize: 100, next: 'count' },
    count: { kind: 'reduce' },
  },
};

/** Recovery times, printed at the end for docs/cluster.md. */
const measured: string[] = [];

describe('a Temporal cluster on PostgreSQL: four services, faults mid-run', function () {
  let dir: string;
  let cluster: Cluster;
  let catcher: MailCatcher;
  let worker: ManagedProcess;
  let connection: Connection;
  let client: Client;
  let config: BatchConfig;
  let specFile: string;
  const clis: CliRun[] = [];

  before(async function () {
    this.timeout(600_000);
    // PostgreSQL runs as the postgres user when we are root: its folder must let it pass (mkdtemp makes 700).
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-cluster-'));
    fs.chmodSync(dir, 0o755);
    const started = Date.now();
    cluster = await Cluster.start(
      {
        dir,
        ports: await freeClusterPorts(),
        namespace: 'default',
        numHistoryShards: 4,
        retentionDays: 1,
        fastDb: true,
      },
      () => undefined,
    );
    measured.push(`cluster start (fresh database, tools built): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    catcher = await startTestMailCatcher('cluster');
    const base = loadConfig({ TEMPORAL_ADDRESS: cluster.frontendAddress });
    config = {
      ...base,
      mail: { ...base.mail, smtpHost: '127.0.0.1', smtpPort: catcher.smtpPort, uiUrl: catcher.webUrl },
    };
    worker = await startWorkerProcess({
      name: 'cluster worker',
      config,
      workflowBundlePath: await buildWorkflowBundle(),
      logFile: path.join(dir, 'worker.log'),
      roles: 'all',
      shards: `${config.signup.queue}:${config.signup.shards}`,
    });
    connection = await Connection.connect({ address: cluster.frontendAddress });
    client = new Client({ connection });
    specFile = path.join(dir, 'cluster-noop.json');
    fs.writeFileSync(specFile, JSON.stringify(spec));
  });

  after(async function () {
    this.timeout(120_000);
    for (const cli of clis) cli.child.kill('SIGKILL');
    await worker?.stop();
    await connection?.close();
    await catcher?.stop();
    await cluster?.stop();
    if (measured.length > 0) console.log(`      cluster timings:\n${measured.map((m) => `        ${m}`).join('\n')}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Starts `npm run cli -- run <spec> --generate <items> --wait` against the cluster. */
  function runCli(runName: string, items: number): { cli: CliRun; handle: WorkflowHandle } {
    const cli = startCli(['run', specFile, '--generate', String(items), '--run', runName, '--wait'], {
      TEMPORAL_ADDRESS: cluster.frontendAddress,
    });
    clis.push(cli);
    return { cli, handle: client.workflow.getHandle(pipelineWorkflowId(spec.name, runName)) };
  }

  /** The CLI's summary says every item completed and was counted once; visibility shows one completed execution per ID. */
  async function assertExactlyOnce(cli: CliRun, runName: string, items: number): Promise<void> {
    const code = await cli.exited;
    const output = cli.output();
    assert.equal(code, 0, output);
    assert.match(
      output,
      new RegExp(`Pipeline ${spec.name}: ${items} items, ${items} completed, 0 dropped by filters, 0 dead-lettered`),
    );
    assert.match(output, new RegExp(`Reduce count: count ${items}\\b`), 'every item counted exactly once');
    const workflowId = pipelineWorkflowId(spec.name, runName);
    const byId = await executionsOfRun(client, workflowId);
    assert.ok(byId.size > items / spec.partitionSize!, `the run and its partitions: ${[...byId.keys()].join(', ')}`);
    for (const [id, statuses] of byId) {
      assert.equal(statuses.filter((s) => s === 'COMPLETED').length, 1, `${id}: ${statuses.join(', ')}`);
      assert.deepEqual(
        statuses.filter((s) => s !== 'COMPLETED' && s !== 'CONTINUED_AS_NEW'),
        [],
        id,
      );
    }
    const result = await client.workflow.getHandle(workflowId).result();
    assert.deepEqual([result.total, result.completed, result.deadLettered], [items, items, 0]);
    assert.equal(result.reduce.count.count, items);
    assert.ok(worker.running, 'the worker process carried on by itself');
  }

  /**
   * Kills `service` once a tenth of the run is done, starts it again, and returns the seconds from
   * the kill until the run made progress again.
   */
  async function faultMidRun(handle: WorkflowHandle, items: number, fault: () => Promise<void>): Promise<number> {
    const before = await waitForProgress(handle, items / 10, 'a tenth of the items');
    assert.ok(before < items, `the fault lands mid-run (${before} of ${items} items done)`);
    const killedAt = Date.now();
    await fault();
    await waitFor(
      'the run to make progress again',
      async () => ((await itemsDone(handle)) ?? 0) > before,
      300_000,
      250,
    );
    return (Date.now() - killedAt) / 1000;
  }

  async function killAndRestart(service: TemporalService): Promise<void> {
    const pid = cluster.services.get(service)?.child.pid;
    await cluster.kill(service);
    assert.ok(!cluster.services.get(service)?.running, `${service} (pid ${pid}) is dead`);
    await sleep(1000);
    await cluster.startService(service);
  }

  it('comes up from scratch: schemas at the newest version, namespace, search attributes, four services, the Web UI', async () => {
    assert.match(await schemaVersion(cluster.postgres, 'temporal'), /^1\.\d+$/);
    assert.match(await schemaVersion(cluster.postgres, 'temporal_visibility'), /^1\.\d+$/);
    const pids = new Set([...cluster.services.values()].map((p) => p.child.pid));
    assert.equal(pids.size, 4, 'frontend, history, matching and worker are separate processes');
    const listed = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    assert.ok(listed.customAttributes?.BatchPipeline && listed.customAttributes?.BatchRun);
    const namespaces = (await (await fetch(`${cluster.uiUrl}/api/v1/namespaces`)).json()) as {
      namespaces: { namespaceInfo: { name: string } }[];
    };
    assert.ok(
      namespaces.namespaces.some((n) => n.namespaceInfo.name === 'default'),
      JSON.stringify(namespaces),
    );
  });

  it('runs the thumbnailer on real videos', async function () {
    this.timeout(240_000);
    const videos = await sampleVideos();
    const items = await collect(new ListSource(videos));
    const handle = await startThumbnailerRun(client, config, {
      runName: `cluster-${Date.now()}`,
      items,
      concurrency: 3,
    });
    const result = await handle.result();
    assert.deepEqual([result.total, result.completed, result.deadLettered], [videos.length, videos.length, 0]);
  });

  it('runs the sign-up flow to the end with real mail', async function () {
    this.timeout(240_000);
    const lines = await signupFlow.demo(
      { client, config, dataDir: signupDataDir('cluster-signup'), log: () => undefined },
      `c${process.pid}`,
    );
    const text = lines.join('\n');
    const user = (name: string) => `signup-c${process.pid}-${name}`;
    assert.match(text, /6 event\(s\), 5 started, 1 duplicate\(s\), 1 rejected/);
    assert.match(text, new RegExp(`verified +${user('ada')} .*welcome mail sent`));
    assert.match(text, new RegExp(`verified +${user('bob')} .*notifications by SMS`));
    assert.match(text, /Mails delivered \(8; /, 'every mail once');
  });

  it('20,000 items through 4 stages, history SIGKILLed mid-run and restarted: exactly once; visibility answers', async function () {
    this.timeout(420_000);
    const items = 20_000;
    const runName = 'history-kill';
    const started = Date.now();
    const { cli, handle } = runCli(runName, items);
    const recovery = await faultMidRun(handle, items, () => killAndRestart('history'));
    await assertExactlyOnce(cli, runName, items);
    measured.push(`20,000 items: ${((Date.now() - started) / 1000).toFixed(1)} s with the history fault`);
    measured.push(`history SIGKILL → progress again: ${recovery.toFixed(1)} s`);

    // The queries the API and the Web UI make: by pipeline and run, and by workflow ID prefix.
    const workflowId = pipelineWorkflowId(spec.name, runName);
    const query = `${BatchPipeline.name} = '${spec.name}' AND ${BatchRun.name} = '${runName}'`;
    const byRun = (await client.workflow.count(query)).count;
    const byPrefix = (await client.workflow.count(`WorkflowId STARTS_WITH '${workflowId}'`)).count;
    assert.ok(byRun >= 1, query);
    assert.ok(byPrefix >= items / spec.partitionSize!, `${byPrefix} executions by prefix`);
    const ids: string[] = [];
    for await (const e of client.workflow.list({ query })) ids.push(e.workflowId);
    assert.ok(ids.includes(workflowId), ids.join(', '));
    assert.ok(
      ids.every((id) => id.startsWith(workflowId)),
      ids.join(', '),
    );
  });

  it("the cluster's Web UI server lists the run by its search attributes and opens it, in a headless browser", async function () {
    this.timeout(120_000);
    const browser = await launchHeadlessChromium();
    try {
      const page = await browser.newPage();
      const workflowId = pipelineWorkflowId(spec.name, 'history-kill');
      // Partitions p1 and p10-p19 of the 20,000-item run: search attributes and a prefix, as typed into the UI.
      const query = `BatchPipeline = "${spec.name}" AND BatchRun = "history-kill" AND WorkflowId STARTS_WITH "${workflowId}/p1"`;
      await page.goto(`${cluster.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
      await waitForTexts(page, [`${workflowId}/p1`, `${workflowId}/p19`]);
      await page.goto(`${cluster.uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
      await waitForTexts(page, ['Completed', workflowId, 'pipelineRun']);
      await page.screenshot({ path: path.join(outputFolder('cluster-web-ui'), 'run.png') });
    } finally {
      await browser.close();
    }
  });

  it('matching SIGKILLed mid-run and restarted: exactly once', async function () {
    this.timeout(300_000);
    const items = 6000;
    const { cli, handle } = runCli('matching-kill', items);
    const recovery = await faultMidRun(handle, items, () => killAndRestart('matching'));
    await assertExactlyOnce(cli, 'matching-kill', items);
    measured.push(`matching SIGKILL → progress again: ${recovery.toFixed(1)} s`);
  });

  it('PostgreSQL restarted (fast shutdown) mid-run: exactly once', async function () {
    this.timeout(300_000);
    const items = 6000;
    const { cli, handle } = runCli('postgres-restart', items);
    const recovery = await faultMidRun(handle, items, () => cluster.postgres.restart());
    await assertExactlyOnce(cli, 'postgres-restart', items);
    measured.push(`PostgreSQL fast restart → progress again: ${recovery.toFixed(1)} s`);
  });

  it('frontend SIGKILLed while the CLI watches: the CLI waits for it, then follows the run to the end', async function () {
    this.timeout(300_000);
    const items = 6000;
    const { cli, handle } = runCli('frontend-kill', items);
    const recovery = await faultMidRun(handle, items, async () => {
      await cluster.kill('frontend');
      // Start it again only once the CLI has noticed: the outage is longer than the client's own retries.
      await waitFor(
        'the CLI to say it waits for Temporal',
        async () => /Waiting for Temporal/.test(cli.output()),
        60_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\nCLI output:\n${cli.output()}`);
      });
      await cluster.startService('frontend');
    });
    await assertExactlyOnce(cli, 'frontend-kill', items);
    const output = cli.output();
    assert.match(
      output,
      /Waiting for Temporal at 127\.0\.0\.1:\d+: it does not answer \(.+\)\. Retrying for up to 5 minutes/,
    );
    assert.match(output, /Temporal answers again after \d+ s; following the run\./);
    measured.push(`frontend SIGKILL → progress again (restarted once the CLI waited): ${recovery.toFixed(1)} s`);
  });

  it('keeps its state across a restart: same database, no second schema set-up, runs still there', async function () {
    this.timeout(120_000);
    const workflowId = pipelineWorkflowId(spec.name, 'history-kill');
    const versions = await Promise.all(
      ['temporal', 'temporal_visibility'].map((db) => schemaVersion(cluster.postgres, db)),
    );
    await connection.close();
    await cluster.stop();
    const lines: string[] = [];
    const started = Date.now();
    cluster = await Cluster.start(cluster.options, (line) => lines.push(line));
    measured.push(`cluster restart on its database: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.deepEqual(
      lines.filter((l) => /Creating the PostgreSQL|setting up its schema|Registered namespace/.test(l)),
      [],
      lines.join('\n'),
    );
    assert.deepEqual(
      await Promise.all(['temporal', 'temporal_visibility'].map((db) => schemaVersion(cluster.postgres, db))),
      versions,
    );
    connection = await Connection.connect({ address: cluster.frontendAddress });
    client = new Client({ connection });
    const described = await client.workflow.getHandle(workflowId).describe();
    assert.equal(described.status.name, 'COMPLETED');
    assert.equal((await client.workflow.getHandle(workflowId).result()).completed, 20_000);
  });
});
