/**
 * Chaos: the Temporal dev server is SIGKILLed in the middle of a pipeline run of a few thousand
 * cheap items, and started again on the same ports and SQLite file. The run completes exactly once
 * (one completed execution per workflow ID, every item counted once), the worker process carries
 * on by itself, and the CLI that watched the run with `--wait` says it waits for Temporal, then
 * prints the right summary and exits 0.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { isTransientTemporalError, type OutageOptions, waitForTemporal } from '../src/cli/temporal-outages';
import { pipelineWorkflowId } from '../src/client/pipeline-run';
import { ensureSearchAttributes } from '../src/client/search-attributes';
import type { PipelineSpec } from '../src/pipelines/spec';
import { loadConfig } from '../src/infra/config';
import { DevServerOptions, startDevServer } from '../src/devstack/dev-server';
import type { ManagedProcess } from '../src/infra/processes';
import { ensureTemporalCli } from '../src/devstack/tools/temporal-cli';
import { freePort, portOpen, waitFor } from '../src/infra/wait';
import { startWorkerProcess } from '../src/infra/worker-process';
import { buildWorkflowBundle } from '../src/workers/workflow-bundle';
import { pipelineProgressQuery } from '../src/workflows/pipeline';
import { CliRun, startCli } from './support/cluster-run';
import { sharedDevServer } from './support/servers';

const items = 3000;

describe('chaos: the dev server SIGKILLed mid-run', function () {
  let dir: string;
  let server: ManagedProcess | undefined;
  let worker: ManagedProcess | undefined;
  let cli: CliRun | undefined;
  let connection: Connection | undefined;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-chaos-'));
    delete process.env.TEMPORAL_ADDRESS;
  });
  after(async () => {
    cli?.child.kill('SIGKILL');
    await worker?.stop();
    await connection?.close();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('completes the run exactly once; the watching CLI waits for Temporal, then prints the summary and exits 0', async function () {
    this.timeout(170_000);
    const serverOptions: DevServerOptions = {
      cliPath: await ensureTemporalCli(() => undefined),
      port: await freePort(),
      uiPort: await freePort(),
      namespace: 'default',
      dbFile: path.join(dir, 'temporal.db'),
      logFile: path.join(dir, 'temporal-server.log'),
    };
    server = await startDevServer(serverOptions);
    const address = `127.0.0.1:${serverOptions.port}`;
    connection = await Connection.connect({ address });
    await ensureSearchAttributes(connection, 'default');
    const client = new Client({ connection });
    const config = loadConfig({ TEMPORAL_ADDRESS: address });
    worker = await startWorkerProcess({
      name: 'chaos worker',
      config,
      workflowBundlePath: await buildWorkflowBundle(),
      logFile: path.join(dir, 'worker.log'),
      roles: 'workflows,stages',
    });

    const spec: PipelineSpec = {
      name: 'chaos',
      start: 'work',
      concurrency: 4,
      // Progress counts finished partitions: small ones, so the kill lands mid-run.
      partitionSize: 250,
      stages: {
        work: { kind: 'activity', activity: 'noop', batchSize: 10, next: 'count' },
        count: { kind: 'reduce' },
      },
    };
    const specFile = path.join(dir, 'chaos.json');
    fs.writeFileSync(specFile, JSON.stringify(spec));
    const runName = 'outage';
    const workflowId = pipelineWorkflowId(spec.name, runName);
    cli = startCli(['run', specFile, '--generate', String(items), '--run', runName, '--wait'], {
      TEMPORAL_ADDRESS: address,
    });
    const handle = client.workflow.getHandle(workflowId);
    await waitFor(
      'a tenth of the items to be done',
      async () => ((await handle.query(pipelineProgressQuery).catch(() => undefined))?.done ?? 0) >= items / 10,
      60_000,
      200,
    );
    const before = await handle.query(pipelineProgressQuery);
    assert.ok(before.done < items, `killed mid-run (${before.done} of ${items} done)`);

    server.kill();
    await server.exited;
    // Start it again only once the CLI has noticed: the outage is longer than the client's own retries.
    await waitFor(
      'the CLI to say it waits for Temporal',
      async () => /Waiting for Temporal/.test(cli!.output()),
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nCLI output:\n${cli!.output()}`);
    });
    await waitFor(
      'the ports to be free',
      async () => !(await portOpen(serverOptions.port)) && !(await portOpen(serverOptions.uiPort)),
      30_000,
    );
    server = await startDevServer(serverOptions);

    const code = await cli.exited;
    const output = cli.output();
    assert.equal(code, 0, output);
    assert.match(
      output,
      /Waiting for Temporal at 127\.0\.0\.1:\d+: it does not answer \(.+\)\. Retrying for up to 5 minutes/,
    );
    assert.match(output, /Temporal answers again after \d+ s; following the run\./);
    assert.match(
      output,
      new RegExp(
        `Pipeline chaos: ${items} items, ${items} completed, 0 dropped by filters, 0 dead-lettered \\(12 partitions\\)`,
      ),
    );
    assert.match(output, new RegExp(`Reduce count: count ${items}\\b`), 'every item counted exactly once');
    assert.ok(worker.running, 'the worker process reconnected by itself');

    // Exactly once: per workflow ID of the run (the run and its partitions) one completed
    // execution; the rest of a chain is continued-as-new, nothing failed, terminated or running.
    const byId = new Map<string, string[]>();
    for await (const execution of client.workflow.list({ query: `WorkflowId STARTS_WITH '${workflowId}'` })) {
      byId.set(execution.workflowId, [...(byId.get(execution.workflowId) ?? []), execution.status.name]);
    }
    assert.ok(byId.has(workflowId), JSON.stringify([...byId]));
    for (const [id, statuses] of byId) {
      assert.equal(statuses.filter((s) => s === 'COMPLETED').length, 1, `${id}: ${statuses.join(', ')}`);
      assert.deepEqual(
        statuses.filter((s) => s !== 'COMPLETED' && s !== 'CONTINUED_AS_NEW'),
        [],
        `${id}: ${statuses.join(', ')}`,
      );
    }
    const result = await handle.result();
    assert.deepEqual([result.total, result.completed, result.deadLettered], [items, items, 0]);
    assert.equal(result.reduce.count.count, items);

    // A CLI that gave up waiting re-attaches with `watch`: the same summary, from the server.
    const watcher = startCli(['watch', workflowId], { TEMPORAL_ADDRESS: address });
    assert.equal(await watcher.exited, 0, watcher.output());
    assert.match(watcher.output(), new RegExp(`Pipeline chaos: ${items} items, ${items} completed`));
    const notARun = startCli(['watch', `${workflowId}/p0`], { TEMPORAL_ADDRESS: address });
    assert.equal(await notARun.exited, 1);
    assert.match(notARun.output(), /is a pipelinePartition workflow, not a pipeline run/);
  });
});

describe('CLI waits: Temporal away or answering', function () {
  /** A client of a port nothing listens on, without the client's own retries: real errors, at once. */
  async function awayClient(): Promise<{ client: Client; connection: Connection }> {
    const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: [] });
    return { client: new Client({ connection }), connection };
  }

  it('treats an unreachable server as away, and "not found" as an answer', async () => {
    const { client, connection } = await awayClient();
    try {
      const away = await client.workflow
        .getHandle('chaos/none')
        .result()
        .catch((e: unknown) => e);
      assert.match(String(away), /Failed to get Workflow execution history/);
      assert.equal(isTransientTemporalError(away), true, String(away));
    } finally {
      await connection.close();
    }
    const env = await sharedDevServer();
    const answered = await env.client.workflow
      .getHandle('chaos/never-started')
      .result()
      .catch((e: unknown) => e);
    assert.equal(isTransientTemporalError(answered), false, String(answered));
    assert.equal(isTransientTemporalError(new Error('Workflow execution failed')), false);
  });

  /** waitForTemporal for a run on a server that never answers: what it failed with, and the lines it wrote. */
  async function waitWithNoServer(
    options: Omit<OutageOptions, 'log' | 'probe'>,
  ): Promise<{ error: unknown; lines: string[] }> {
    const { client, connection } = await awayClient();
    const lines: string[] = [];
    try {
      const handle = client.workflow.getHandle('chaos/none');
      const first = await handle.result().catch((e: unknown) => e);
      const waited = waitForTemporal(first, { log: (l) => lines.push(l), probe: () => handle.describe(), ...options });
      const error = await waited.then(
        () => undefined,
        (e: unknown) => e,
      );
      return { error, lines };
    } finally {
      await connection.close();
    }
  }

  it('names the address it waits for and, at its limit, the command that re-attaches to the run', async () => {
    const { error, lines } = await waitWithNoServer({
      limitMs: 500,
      everyMs: 200,
      address: '127.0.0.1:1',
      workflowId: 'chaos/none',
    });
    assert.match(
      String(error),
      /^Error: Temporal at 127\.0\.0\.1:1 did not answer for 1 s \(last: .+\); stopped waiting\. The run is kept by the server: once it is back, re-attach with npm run cli -- watch chaos\/none, or follow it in the Web UI\.$/,
    );
    assert.match(lines[0], /^Waiting for Temporal at 127\.0\.0\.1:1: it does not answer/);
  });

  it('stops waiting after its limit, saying for how long and what to do', async () => {
    const { error, lines } = await waitWithNoServer({ limitMs: 1500, everyMs: 200 });
    assert.match(
      String(error),
      /^Error: Temporal did not answer for 2 s \(last: .+\); stopped waiting\. The run is kept by the server: once it is back, follow the run in the Web UI\.$/,
    );
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^Waiting for Temporal: it does not answer \(.+\)\. Retrying for up to 2 s;/);
  });
});
