/**
 * `npm run cluster` as a person runs it: it comes up on a fresh data folder and prints every
 * address, a SIGKILLed service is started again, a second one is refused while it runs, Ctrl-C
 * (SIGINT to the terminal's process group) stops everything, the next start reuses the database
 * without setting anything up again (this time with `--s3`: the S3 gateway as one more supervised
 * service, recorded in cluster.json without its credentials, which `npm start -- --cluster --s3`
 * then runs on), and a SIGKILL of it leaves no server running.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { runningCluster } from '../src/cluster/cluster';
import { checkPortsFree, localClusterPorts } from '../src/cluster/local';
import { ClusterPorts } from '../src/cluster/cluster';
import { repoRoot } from '../src/infra/paths';
import { sampleVideos } from './support/media';
import { freePort, portOpen, waitFor } from '../src/infra/wait';

interface Terminal {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `npm run cluster` in its own process group, as a terminal runs it. */
function npmRunCluster(env: NodeJS.ProcessEnv, args: string[] = []): Terminal {
  const child = spawn('npm', ['run', 'cluster', ...(args.length ? ['--', ...args] : [])], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function up(terminal: Terminal): Promise<void> {
  await waitFor(
    'npm run cluster to be up',
    async () => {
      if (terminal.child.exitCode !== null) throw new Error(`npm run cluster exited:\n${terminal.output()}`);
      return terminal.output().includes('Press Ctrl-C');
    },
    180_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${terminal.output()}`);
  });
}

/**
 * Ctrl-C: SIGINT to the whole process group (npm, the shell, node). npm itself ends on the signal at
 * once; the cluster's own process says when it has stopped everything.
 */
async function ctrlC(terminal: Terminal): Promise<void> {
  process.kill(-terminal.child.pid!, 'SIGINT');
  await waitFor('the cluster to say it stopped', async () => /\[cluster\] Stopped\./.test(terminal.output()), 60_000);
  await terminal.exited;
}

describe('npm run cluster', function () {
  this.timeout(300_000);
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let ports: ClusterPorts;
  const terminals: Terminal[] = [];

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-cluster-cli-'));
    // PostgreSQL runs as the postgres user when we are root: it must pass through this folder.
    fs.chmodSync(dataDir, 0o755);
    for (let attempt = 0; ; attempt++) {
      const offset = String(10_000 + Math.floor(Math.random() * 10_000));
      ports = localClusterPorts({ BATCH_CLUSTER_PORT_OFFSET: offset });
      try {
        await checkPortsFree(ports);
        env = { BATCH_DATA_DIR: dataDir, BATCH_CLUSTER_PORT_OFFSET: offset, TEMPORAL_ADDRESS: '' };
        break;
      } catch (error) {
        if (attempt > 20) throw error;
      }
    }
  });

  after(async () => {
    for (const t of terminals) {
      if (t.child.exitCode === null) {
        try {
          process.kill(-t.child.pid!, 'SIGINT');
        } catch {
          // gone
        }
        await t.exited;
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('comes up, prints every address, restarts a killed service, refuses a second one, stops everything on Ctrl-C, comes back on its database, and leaves nothing behind when SIGKILLed', async () => {
    const first = npmRunCluster(env);
    terminals.push(first);
    await up(first);
    const printed = first.output();
    assert.match(printed, /Creating the PostgreSQL 15\.\d+ database cluster/);
    for (const line of [
      `Temporal frontend (gRPC): 127.0.0.1:${ports.frontend}`,
      `Temporal frontend (HTTP): http://127.0.0.1:${ports.frontendHttp}`,
      `Web UI:                   http://127.0.0.1:${ports.ui}`,
      `History service:          127.0.0.1:${ports.history}`,
      `Matching service:         127.0.0.1:${ports.matching}`,
      `Worker service:           127.0.0.1:${ports.worker}`,
      `PostgreSQL:               127.0.0.1:${ports.postgres}`,
      `frontend http://127.0.0.1:${ports.frontendMetrics}/metrics`,
      `Logs:                     ${path.join(dataDir, 'cluster', 'logs')}`,
    ]) {
      assert.ok(printed.includes(line), `prints ${line}\n${printed}`);
    }
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.frontend}` });
    try {
      const attributes = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      assert.ok(attributes.customAttributes?.BatchRun, 'search attributes registered');
    } finally {
      await connection.close();
    }
    const ui = await fetch(`http://127.0.0.1:${ports.ui}/`);
    assert.equal(ui.status, 200);

    // npm start -- --cluster finds it; a second npm run cluster is refused with its pid.
    const info = runningCluster(path.join(dataDir, 'cluster'));
    assert.equal(info?.frontendAddress, `127.0.0.1:${ports.frontend}`);
    // A service that dies is started again (supervision), and the cluster stays up.
    const historyPid = info!.servicePids.history!;
    process.kill(historyPid, 'SIGKILL');
    await waitFor(
      'npm run cluster to restart the history service',
      async () => /the Temporal history service exited \(signal SIGKILL\); restarting \(1 of 5\)/.test(first.output()),
      60_000,
    );
    await waitFor('the history service to listen again', () => portOpen(ports.history), 90_000);
    assert.doesNotMatch(first.output(), /Stopping/);

    const second = spawnSync(process.execPath, ['--require', 'tsx/cjs', 'src/cli/cluster.ts'], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    assert.equal(second.status, 1);
    assert.match(second.stderr, new RegExp(`A local cluster already runs from .* \\(pid ${info!.pid}, frontend`));

    await ctrlC(first);
    assert.doesNotMatch(first.output(), /giving up|PostgreSQL exited|\. Stopping\./);
    for (const port of [ports.frontend, ports.history, ports.matching, ports.postgres, ports.ui]) {
      assert.equal(await portOpen(port), false, `nothing listens on ${port} after Ctrl-C`);
    }
    assert.equal(runningCluster(path.join(dataDir, 'cluster')), undefined);

    const s3Port = await freePort();
    const again = npmRunCluster({ ...env, BATCH_S3_PORT: String(s3Port) }, ['--s3']);
    terminals.push(again);
    await up(again);
    assert.doesNotMatch(again.output(), /Creating the PostgreSQL|setting up its schema|Registered namespace/);
    // --s3: the gateway is one more service of the cluster, found by npm start -- --cluster --s3.
    const s3Dir = path.join(dataDir, 's3');
    assert.ok(
      again
        .output()
        .includes(
          `S3 gateway (Versity):     http://127.0.0.1:${s3Port} bucket batch, files in ${path.join(s3Dir, 'root')}`,
        ),
      again.output(),
    );
    const withS3 = runningCluster(path.join(dataDir, 'cluster'));
    assert.deepEqual(withS3?.s3, { endpoint: `http://127.0.0.1:${s3Port}`, bucket: 'batch', dir: s3Dir });
    const credentials = JSON.parse(fs.readFileSync(path.join(s3Dir, 'credentials.json'), 'utf8')) as {
      secretAccessKey: string;
    };
    assert.ok(
      !fs.readFileSync(path.join(dataDir, 'cluster', 'cluster.json'), 'utf8').includes(credentials.secretAccessKey),
      'cluster.json does not hold the secret',
    );
    assert.ok(!again.output().includes(credentials.secretAccessKey), 'the secret is not printed');
    assert.equal(fs.statSync(path.join(s3Dir, 'credentials.json')).mode & 0o077, 0, 'credentials.json is private');
    const gatewayPid = Number(
      spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
        .stdout.split('\n')
        .find((line) => line.includes(path.join(s3Dir, 'root')))
        ?.trim()
        .split(/\s+/)[0],
    );
    assert.ok(gatewayPid > 0, 'the gateway runs over <dataDir>/s3/root');
    process.kill(gatewayPid, 'SIGKILL');
    await waitFor(
      'npm run cluster to restart the S3 gateway',
      async () => /the S3 gateway is running again/.test(again.output()),
      60_000,
    );
    assert.match(again.output(), /the S3 gateway exited \(signal SIGKILL\); restarting \(1 of 5\)/);

    // npm start -- --cluster --s3 runs on this cluster and its gateway, and leaves both running.
    const [video] = await sampleVideos();
    const start = spawnSync(
      process.execPath,
      [
        '--require',
        'tsx/cjs',
        'src/cli/start.ts',
        '--cluster',
        '--s3',
        '--once',
        '--no-flows',
        '--run',
        'on-s3',
        video,
      ],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          ...env,
          BATCH_S3_PORT: String(s3Port),
          BATCH_API_PORT: String(await freePort()),
          BATCH_API_METRICS_PORT: String(await freePort()),
          BATCH_SMTP_PORT: String(await freePort()),
          BATCH_MAIL_UI_PORT: String(await freePort()),
          BATCH_METRICS_PORT: '0',
        },
        encoding: 'utf8',
        timeout: 180_000,
      },
    );
    const started = `${start.stdout}${start.stderr}`;
    assert.equal(start.status, 0, started);
    assert.ok(
      started.includes(`Using the running cluster's S3 gateway at http://127.0.0.1:${s3Port} (bucket batch).`),
      started,
    );
    assert.doesNotMatch(started, /Starting the S3 gateway/);
    assert.match(started, /Thumbnailer run: 1 items, 1 succeeded, 0 failed/);
    assert.match(started, /Outputs: +s3:\/\/batch\/outputs\/thumbnailer\/on-s3\/<item>\//);
    assert.ok(fs.readdirSync(path.join(s3Dir, 'root', 'batch', 'outputs', 'thumbnailer', 'on-s3')).length > 0);
    assert.ok(await portOpen(s3Port), "the cluster's gateway keeps running");

    // Killed outright (no clean-up runs): PostgreSQL, the services and the UI server die with it.
    process.kill(runningCluster(path.join(dataDir, 'cluster'))!.pid, 'SIGKILL');
    await again.exited;
    const all = [
      ports.frontend,
      ports.history,
      ports.matching,
      ports.postgres,
      ports.ui,
      ports.workerMembership,
      s3Port,
    ];
    await waitFor(
      'every cluster port to close after a SIGKILL of npm run cluster',
      async () => (await Promise.all(all.map((port) => portOpen(port)))).every((open) => !open),
      30_000,
    );
  });
});
