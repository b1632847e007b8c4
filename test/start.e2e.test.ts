/**
 * `npm start` as a person runs it: the embedded dev server, the worker process and the demo,
 * the summary with its Web UI link, the Web UI served, Ctrl-C leaving no process behind, and the
 * SQLite history surviving a restart. Ports and data folder are private to this test.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startDevServer } from '../src/devstack/dev-server';
import { ensureTemporalCli } from '../src/devstack/tools/temporal-cli';
import { freePort, waitFor } from '../src/infra/wait';
import { parsePrometheusText, sumOf } from './support/prometheus';
import { processesMentioning, runStart } from './support/start-run';

describe('npm start (embedded stack)', function () {
  // The whole demo (thumbnailer and four flows) takes about 90 s on an idle 2-core machine.
  this.timeout(300_000);
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let ports: { server: number; ui: number };

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-start-'));
    ports = { server: await freePort(), ui: await freePort() };
    env = {
      BATCH_DATA_DIR: dataDir,
      TEMPORAL_DEV_PORT: String(ports.server),
      TEMPORAL_UI_PORT: String(ports.ui),
      BATCH_API_PORT: String(await freePort()),
      BATCH_API_METRICS_PORT: String(await freePort()),
      // The sign-up flow's mail catcher, off the default ports a person's own stack may hold.
      BATCH_SMTP_PORT: String(await freePort()),
      BATCH_MAIL_UI_PORT: String(await freePort()),
    };
    delete process.env.TEMPORAL_ADDRESS;
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('--once runs the demo on sample videos and prints the summary with the Web UI link', async () => {
    const run = await runStart(['--once', '--run', 'first'], env);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /Thumbnailer run: 6 items, 5 succeeded, 1 failed/);
    assert.match(run.output, /FAILED {2}not-a-video-mp4-\w+ {2}at extract-frame \[InvalidInput\]: .*not-a-video\.mp4/);
    assert.match(
      run.output,
      new RegExp(`Web UI: +http://localhost:${ports.ui}/namespaces/default/workflows/thumbnailer%2Ffirst/`),
    );
    assert.ok(fs.existsSync(path.join(dataDir, 'outputs', 'thumbnailer', 'first', 'contact-sheet-001.jpg')));
    assert.deepEqual(
      processesMentioning(dataDir).map((p) => p.line),
      [],
      'no process left behind',
    );
  });

  it('stays up with the Web UI and the API (with its metrics) until Ctrl-C, then stops everything it started', async () => {
    let page = { status: 0, text: '' };
    let pipelinesStatus = 0;
    let apiRequests: number | undefined;
    const video = path.join(dataDir, 'samples', 'sample-5-rgbtestsrc-320x240.mp4');
    const run = await runStart(['--run', 'second', video], env, async () => {
      const response = await fetch(`http://localhost:${ports.ui}/`);
      page = { status: response.status, text: await response.text() };
      const token = fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
      const api = await fetch(`http://127.0.0.1:${env.BATCH_API_PORT}/pipelines`, {
        headers: { authorization: `Bearer ${token}` },
      });
      pipelinesStatus = api.status;
      // The SDK exports metrics asynchronously: the count appears shortly after the request.
      await waitFor(
        "the API's request counter",
        async () => {
          const metrics = await fetch(`http://127.0.0.1:${env.BATCH_API_METRICS_PORT}/metrics`);
          apiRequests = sumOf(parsePrometheusText(await metrics.text()), 'batch_api_requests', {
            route: '/pipelines',
            method: 'GET',
            status: '200',
          });
          return apiRequests !== undefined;
        },
        15_000,
        200,
      );
    });
    assert.equal(page.status, 200, 'the Web UI answered while the stack was up');
    assert.match(page.text, /<html/i);
    assert.equal(pipelinesStatus, 200, 'the API answered with the printed token');
    assert.equal(apiRequests, 1, 'the API counted the request on its metrics endpoint');
    assert.match(run.output, new RegExp(`API metrics: http://127\\.0\\.0\\.1:${env.BATCH_API_METRICS_PORT}/metrics`));
    assert.match(run.output, /Thumbnailer run: 1 items, 1 succeeded, 0 failed/);
    assert.match(run.output, /Stopping the API, workers and the Temporal server/);
    assert.deepEqual(
      processesMentioning(dataDir).map((p) => p.line),
      [],
      'no process left behind',
    );
  });

  it('keeps every execution across restarts (SQLite), and with TEMPORAL_ADDRESS uses that server instead of its own', async () => {
    const cli = await ensureTemporalCli(() => undefined);
    const server = await startDevServer({
      cliPath: cli,
      port: ports.server,
      uiPort: ports.ui,
      namespace: 'default',
      dbFile: path.join(dataDir, 'temporal', 'temporal.db'),
      logFile: path.join(dataDir, 'logs', 'restart.log'),
    });
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.server}` });
    try {
      const video = path.join(dataDir, 'samples', 'sample-2-smptebars-480x480.mp4');
      const run = await runStart(['--once', '--run', 'third', video], {
        ...env,
        TEMPORAL_ADDRESS: `127.0.0.1:${ports.server}`,
      });
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, new RegExp(`Using the Temporal cluster at 127.0.0.1:${ports.server}`));
      assert.doesNotMatch(run.output, /Starting the Temporal dev server/);
      assert.ok(server.running, 'a server it did not start is left running');

      const client = new Client({ connection });
      const ids: string[] = [];
      await waitFor(
        'all three runs to be listed (runs, not their partitions)',
        async () => {
          ids.length = 0;
          for await (const wf of client.workflow.list({
            query: `BatchPipeline = 'thumbnailer' AND WorkflowType = 'pipelineRun'`,
          }))
            ids.push(wf.workflowId);
          return ids.length >= 3;
        },
        30_000,
      );
      assert.deepEqual(ids.sort(), ['thumbnailer/first', 'thumbnailer/second', 'thumbnailer/third']);
    } finally {
      await connection.close();
      await server.stop();
    }
  });
});
