/**
 * This project's side of the side-by-side benchmark, run as a person runs it: the embedded dev
 * server (SQLite), one worker process (`src/workers/main.ts`, all roles, started fresh for every
 * run so no per-process cache carries over), and the CLI (`npm run cli -- run ...`) in its own
 * process, which starts the run and follows its progress until it closes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ensureSearchAttributes } from '../../src/client/search-attributes';
import { loadConfig, type BatchConfig } from '../../src/infra/config';
import { startDevServer } from '../../src/devstack/dev-server';
import { ManagedProcess, startTsProcess } from '../../src/infra/processes';
import { ensureTemporalCli } from '../../src/devstack/tools/temporal-cli';
import { freePort } from '../../src/infra/wait';
import { startWorkerProcess } from '../../src/infra/worker-process';
import { quietLogger, workflowsEntry } from '../../src/workers/workflow-bundle';
import type { PipelineRunResult } from '../../src/workflows/pipeline';
import type { CpuSampler } from './cpu-sampler';
import { executions, historyLength, reapedChildrenCpuSeconds } from './measure';

export interface ProjectStack {
  address: string;
  config: BatchConfig;
  connection: Connection;
  client: Client;
  server: ManagedProcess;
  bundlePath: string;
  dir: string;
  serverVersion: string;
  stop(): Promise<void>;
}

/** The dev server on free ports with its SQLite file in `dir`, the search attributes, a workflow bundle. */
export async function startProjectStack(dir: string, log: (line: string) => void): Promise<ProjectStack> {
  const cliPath = await ensureTemporalCli(log);
  const [port, uiPort] = [await freePort(), await freePort()];
  log(`starting the Temporal dev server on 127.0.0.1:${port} (db ${dir}/temporal.db)`);
  const server = await startDevServer({
    cliPath,
    port,
    uiPort,
    namespace: 'default',
    dbFile: path.join(dir, 'temporal.db'),
    logFile: path.join(dir, 'temporal-server.log'),
  });
  const address = `127.0.0.1:${port}`;
  const connection = await Connection.connect({ address });
  await ensureSearchAttributes(connection, 'default');
  const info = await connection.workflowService.getSystemInfo({});
  log('bundling the workflow code for the worker processes');
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsEntry, logger: quietLogger });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, code);
  return {
    address,
    config: loadConfig({ ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default' }),
    connection,
    client: new Client({ connection }),
    server,
    bundlePath,
    dir,
    serverVersion: info.serverVersion ?? '?',
    async stop() {
      await connection.close();
      await server.stop();
    },
  };
}

export interface ProjectResult {
  workflowId: string;
  result: PipelineRunResult;
  /** The run workflow's start and close times (ms since the epoch). */
  startedAt: number;
  closedAt: number;
  /** CPU seconds over start → close: the worker process, the dev server, the CLI. */
  cpu: { worker: number; server: number; cli: number };
  /** The CLI process's whole life: wall seconds and CPU seconds (Node + tsx start-up included). */
  cliWallSeconds: number;
  cliCpuSeconds: number;
  executions: number;
  events: number;
}

let runs = 0;

/**
 * One run: a fresh worker process, then `cli <args>` until it exits; the run `workflowId` is then
 * described and its executions counted (the run and every child: `<workflowId>/...`).
 */
export async function projectRun(
  stack: ProjectStack,
  sampler: CpuSampler,
  args: string[],
  workflowId: string,
): Promise<ProjectResult> {
  const n = ++runs;
  const logFile = path.join(stack.dir, `run-${n}.log`);
  const worker = await startWorkerProcess({
    name: `bench worker ${n}`,
    config: stack.config,
    workflowBundlePath: stack.bundlePath,
    logFile: path.join(stack.dir, `worker-${n}.log`),
  });
  try {
    sampler.watch(worker.child.pid);
    sampler.watch(stack.server.child.pid);
    const reaped0 = reapedChildrenCpuSeconds();
    const t0 = Date.now();
    const cli = startTsProcess('cli', 'src/cli/main.ts', args, {
      output: logFile,
      env: { ...process.env, TEMPORAL_ADDRESS: stack.address, TEMPORAL_NAMESPACE: 'default' },
    });
    sampler.watch(cli.child.pid);
    const code = await cli.exited;
    const cliWallSeconds = (Date.now() - t0) / 1000;
    sampler.sample();
    const cliCpuSeconds = reapedChildrenCpuSeconds() - reaped0;
    if (code !== 0) {
      throw new Error(
        `the CLI (${args.join(' ')}) exited with ${cli.exitDescription}; its output (${logFile}):\n` +
          fs.readFileSync(logFile, 'utf8').slice(-3000),
      );
    }
    const handle = stack.client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    const result = (await handle.result()) as PipelineRunResult;
    const startedAt = description.startTime.getTime();
    const closedAt = description.closeTime?.getTime() ?? Date.now();
    const cpu = {
      worker: sampler.cpuBetween(worker.child.pid, startedAt, closedAt),
      server: sampler.cpuBetween(stack.server.child.pid, startedAt, closedAt),
      cli: sampler.cpuBetween(cli.child.pid, startedAt, closedAt),
    };
    sampler.forget(cli.child.pid);
    const found = (await executions(stack.client, workflowId, 1)).filter(
      (e) => e.workflowId === workflowId || e.workflowId.startsWith(`${workflowId}/`),
    );
    let events = 0;
    for (const e of found) events += await historyLength(stack.client, e);
    return {
      workflowId,
      result,
      startedAt,
      closedAt,
      cpu,
      cliWallSeconds,
      cliCpuSeconds,
      executions: found.length,
      events,
    };
  } finally {
    sampler.forget(worker.child.pid);
    await worker.stop();
  }
}
