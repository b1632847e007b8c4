/**
 * Supervision: what `npm start` started stays up. A process that dies is restarted with a line
 * saying so, up to a limit after which the stack gives up with a message naming what died and its
 * log; a worker process that never becomes ready is killed, not left running; and on a real stack
 * a SIGKILLed dev server, worker and mail catcher come back and the stack keeps working.
 */
import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/infra/config';
import { processAlive } from '../src/infra/atomic-write';
import { repoRoot } from '../src/infra/paths';
import { startProcess } from '../src/infra/processes';
import { Supervisor } from '../src/devstack/supervisor';
import { freePort, waitFor } from '../src/infra/wait';
import { startWorkerProcess } from '../src/infra/worker-process';
import { sampleVideos } from './support/media';

describe('supervised processes', function () {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-supervision-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('restarts a process killed with SIGKILL, with a line saying so, and stops it for good when asked', async () => {
    const lines: string[] = [];
    const logFile = path.join(dir, 'sleeper.log');
    const supervisor = await Supervisor.start({
      name: 'the sleeper',
      logFile,
      log: (line) => lines.push(line),
      onGiveUp: (message) => lines.push(`gave up: ${message}`),
      start: async () =>
        startProcess('sleeper', process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { output: logFile }),
    });
    const first = supervisor.current;
    first.kill();
    await waitFor('the restart', async () => supervisor.current !== first && supervisor.current.running, 10_000, 50);
    assert.deepEqual(lines, [
      'the sleeper exited (signal SIGKILL); restarting (1 of 5)…',
      'the sleeper is running again.',
    ]);
    const second = supervisor.current;
    await supervisor.stop();
    assert.ok(!second.running, 'stopped');
    assert.equal(supervisor.current, second, 'a process asked to stop is not restarted');
    assert.equal(lines.length, 2);
  });

  it('gives up after the restart limit with a message naming what died, how, and its log', async () => {
    const lines: string[] = [];
    const logFile = path.join(dir, 'crasher.log');
    let gaveUp: (message: string) => void = () => undefined;
    const message = new Promise<string>((resolve) => (gaveUp = resolve));
    await Supervisor.start({
      name: 'the crasher',
      logFile,
      log: (line) => lines.push(line),
      onGiveUp: gaveUp,
      maxRestarts: 2,
      windowMs: 60_000,
      start: async () =>
        startProcess('crasher', process.execPath, ['-e', 'setTimeout(() => process.exit(3), 200)'], {
          output: logFile,
        }),
    });
    assert.equal(
      await message,
      `the crasher exited (code 3) after 2 restarts within 1 minute; giving up. See its log: ${logFile}`,
    );
    assert.deepEqual(lines, [
      'the crasher exited (code 3); restarting (1 of 2)…',
      'the crasher is running again.',
      'the crasher exited (code 3); restarting (2 of 2)…',
      'the crasher is running again.',
    ]);
  });

  it('kills a worker process that does not become ready, and reports its log tail', async () => {
    // A "server" that accepts connections and never answers: the worker hangs while connecting.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address() as net.AddressInfo;
    const logFile = path.join(dir, 'stuck-worker.log');
    let pid: number | undefined;
    try {
      await assert.rejects(
        startWorkerProcess({
          name: 'stuck worker',
          config: loadConfig({ TEMPORAL_ADDRESS: `127.0.0.1:${address.port}` }),
          logFile,
          roles: 'stages',
          readyTimeoutMs: 4000,
          env: { BATCH_LOG_FORMAT: 'text' },
        }),
        (error: Error) => {
          assert.match(error.message, /Timed out after 4 s waiting for stuck worker to start polling\./);
          assert.match(error.message, /It was stopped \(pid \d+\)\. Its log \(.*stuck-worker\.log\) ends with:\n/);
          pid = Number(/pid (\d+)/.exec(error.message)?.[1]);
          return true;
        },
      );
      const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
      assert.ok(
        !ps
          .split('\n')
          .some((line) => line.includes('src/workers/main.ts') && line.includes(`127.0.0.1:${address.port}`)),
        'no worker left running',
      );
      assert.ok(pid && !processAlive(pid), `worker ${pid} is gone`);
    } finally {
      silent.close();
    }
  });
});

/** Child pids of `parent` whose command line contains `marker`. */
function childrenMatching(parent: number, marker: string): number[] {
  const ps = execFileSync('ps', ['-eo', 'pid,ppid,args'], { encoding: 'utf8' });
  return ps
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, ppid, ...args]) => Number(ppid) === parent && args.join(' ').includes(marker))
    .map(([pid]) => Number(pid));
}

describe('npm start supervises its dev server, worker and mail catcher', function () {
  let dataDir: string;
  let start: ChildProcess | undefined;

  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-supervised-stack-'));
    delete process.env.TEMPORAL_ADDRESS;
  });
  after(() => {
    if (start && start.exitCode === null) start.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('restarts a SIGKILLed dev server (same ports, same SQLite), worker and mail catcher; runs and the API keep working', async function () {
    this.timeout(170_000);
    const ports = { server: await freePort(), ui: await freePort(), api: await freePort() };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BATCH_DATA_DIR: dataDir,
      TEMPORAL_DEV_PORT: String(ports.server),
      TEMPORAL_UI_PORT: String(ports.ui),
      BATCH_API_PORT: String(ports.api),
      BATCH_API_METRICS_PORT: String(await freePort()),
      BATCH_METRICS_PORT: String(await freePort()),
      BATCH_SMTP_PORT: String(await freePort()),
      BATCH_MAIL_UI_PORT: String(await freePort()),
    };
    const [video] = await sampleVideos();
    start = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/cli/start.ts', '--no-flows', '--run', 'sup', video], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    start.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    start.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => start!.on('exit', (code) => resolve(code)));
    const until = (what: string, pattern: RegExp, ms = 90_000) =>
      waitFor(what, async () => pattern.test(output) || start!.exitCode !== null, ms).then(() =>
        assert.match(output, pattern, `${what}; output:\n${output}`),
      );

    await until('the stack to be up', /press Ctrl-C/, 150_000);
    const startPid = start.pid!;
    const [serverPid] = childrenMatching(startPid, `--db-filename ${path.join(dataDir, 'temporal', 'temporal.db')}`);
    assert.ok(serverPid, `dev server found among the children of ${startPid}`);
    process.kill(serverPid, 'SIGKILL');
    await until(
      'the dev server restart',
      /\[start\] the Temporal dev server exited \(signal SIGKILL\); restarting \(1 of 5\)…\n\[start\] the Temporal dev server is running again\./,
    );
    const [workerPid] = childrenMatching(startPid, 'src/workers/main.ts');
    assert.ok(workerPid, 'worker process found');
    process.kill(workerPid, 'SIGKILL');
    await until(
      'the worker restart',
      /\[start\] worker 0 exited \(signal SIGKILL\); restarting \(1 of 5\)…[^]*\[start\] worker 0 is running again\./,
    );

    const [mailPid] = childrenMatching(startPid, `--smtp ${env.BATCH_SMTP_PORT}`);
    assert.ok(mailPid, 'mail catcher found');
    process.kill(mailPid, 'SIGKILL');
    await until(
      'the mail catcher restart',
      /\[start\] the mail catcher exited \(signal SIGKILL\); restarting \(1 of 5\)…[^]*\[start\] the mail catcher is running again\./,
    );
    assert.equal((await fetch(`http://127.0.0.1:${env.BATCH_MAIL_UI_PORT}/email`)).status, 200, 'mail catcher answers');

    // The restarted pair runs a pipeline to the end, and the API still answers.
    const specFile = path.join(dataDir, 'after-restart.json');
    fs.writeFileSync(
      specFile,
      JSON.stringify({
        name: 'after-restart',
        start: 'work',
        stages: { work: { kind: 'activity', activity: 'noop' } },
      }),
    );
    const cli = execFileSync(
      process.execPath,
      ['--require', 'tsx/cjs', 'src/cli/main.ts', 'run', specFile, '--generate', '20', '--run', 'one', '--wait'],
      {
        cwd: repoRoot,
        env: { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${ports.server}` },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.match(cli, /Pipeline after-restart: 20 items, 20 completed/);
    const token = fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
    const api = await fetch(`http://127.0.0.1:${ports.api}/pipelines`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(api.status, 200);
    // Through the stack's own Temporal connection, which reconnected to the restarted server.
    const run = await fetch(`http://127.0.0.1:${ports.api}/pipelines/after-restart/runs/one`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = await run.text();
    assert.equal(run.status, 200, body);
    assert.equal((JSON.parse(body) as { status: string }).status, 'COMPLETED');

    // A process that keeps dying: after 5 restarts within 10 minutes the stack gives up, says what
    // died and where its log is, stops everything and exits 1.
    for (let exit = 2; exit <= 6; exit++) {
      const [pid] = childrenMatching(startPid, `--smtp ${env.BATCH_SMTP_PORT}`);
      assert.ok(pid, `mail catcher running before exit ${exit}`);
      process.kill(pid, 'SIGKILL');
      if (exit <= 5) {
        await until(
          `restart ${exit}`,
          new RegExp(
            `mail catcher exited \\(signal SIGKILL\\); restarting \\(${exit} of 5\\)…[^]*mail catcher is running again`,
          ),
        );
      }
    }
    assert.equal(await exited, 1, output);
    assert.match(
      output,
      new RegExp(
        `\\[start\\] the mail catcher exited \\(signal SIGKILL\\) after 5 restarts within 10 minutes; giving up\\. See its log: ${path.join(dataDir, 'logs', 'mail-catcher.log')}`,
      ),
    );
    const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
    assert.deepEqual(
      ps.split('\n').filter((line) => line.includes(dataDir) && !line.includes('ps -eo')),
      [],
      'no process left behind',
    );
  });
});
