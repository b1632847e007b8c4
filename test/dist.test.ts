/**
 * The production build: `npm run build`'s tsc config compiles src/ to dist/, a copy of the
 * project with only dist/, package.json and package-lock.json is installed with
 * `npm ci --omit=dev` (no tsx, no TypeScript: what the Dockerfile's runtime stage does), and a
 * worker started there with `node dist/workers/main.js` runs a pipeline to completion. Fails when
 * src/ imports a package that is only a devDependency (yaml was one) or reads its sources at run time.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { runPipeline } from '../src/client/pipeline-run';
import { repoRoot } from '../src/infra/paths';
import { ManagedProcess, startProcess } from '../src/infra/processes';
import { waitFor } from '../src/infra/wait';
import { workerEnv } from '../src/infra/worker-process';
import { isolatedConfig } from './support/config';
import { sharedDevServer } from './support/servers';

const run = promisify(execFile);

describe('production build (dist/, npm ci --omit=dev)', function () {
  let env: TestWorkflowEnvironment;
  let install: string;
  let worker: ManagedProcess | undefined;

  before(async () => {
    env = await sharedDevServer();
    install = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-dist-'));
    const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(install, 'dist')], {
      cwd: repoRoot,
    });
    for (const file of ['package.json', 'package-lock.json']) {
      fs.copyFileSync(path.join(repoRoot, file), path.join(install, file));
    }
    // npm's cache holds every package already: no download beyond the registry's answers.
    await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: install,
      timeout: 120_000,
    });
  });

  after(async () => {
    await worker?.stop();
    if (install) fs.rmSync(install, { recursive: true, force: true });
  });

  it('installs without dev dependencies and runs a worker from dist/ that completes a pipeline', async () => {
    for (const dev of ['tsx', 'typescript', 'mocha']) {
      assert.ok(!fs.existsSync(path.join(install, 'node_modules', dev)), `${dev} is not installed`);
    }
    assert.ok(!fs.existsSync(path.join(install, 'src')), 'no TypeScript sources beside the build');

    const config = isolatedConfig(env.address);
    const logFile = path.join(repoRoot, 'test-output', 'dist-worker.log');
    fs.rmSync(logFile, { force: true });
    worker = startProcess('dist worker', process.execPath, [path.join(install, 'dist', 'workers', 'main.js')], {
      output: logFile,
      env: {
        // Not the test's own environment: no tsx preloaded through NODE_OPTIONS, nothing inherited.
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...workerEnv(config),
        BATCH_DATA_DIR: path.join(install, 'data'),
        BATCH_LOG_FORMAT: 'text',
      },
    });
    const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
    await waitFor(
      'the worker from dist/ to poll its queues',
      async () => {
        if (!worker!.running) throw new Error(`the dist/ worker exited (${worker!.exitDescription}):\n${log()}`);
        return log().includes('worker ready');
      },
      90_000,
    );

    const items = Array.from({ length: 5 }, (_, i) => ({ id: `item-${i}`, data: { n: i } }));
    const result = await runPipeline(
      env.client,
      config,
      { name: 'dist-noop', start: 'work', stages: { work: { kind: 'activity', activity: 'noop' } } },
      items,
      { runName: `dist-${Date.now()}` },
    );
    assert.equal(result.completed, items.length, JSON.stringify(result.deadLetters));
    assert.deepEqual(result.deadLetters, []);
  });
});
