import fs from 'node:fs';
import path from 'node:path';
import { ManagedProcess, startProcess } from '../infra/processes';
import { portOpen, waitFor } from '../infra/wait';

/**
 * Dynamic config for the embedded server (see docs/priority-and-fairness.md): Server 1.29.1
 * dispatches by priority key and fairness key only with the fairness matcher, and exactly only
 * with one task-queue partition. Set from the start: switching it on a database with queued
 * tasks strands them. Worker heartbeats and ListWorkers (both off by default in 1.29) let the
 * autoscaler read each queue's tasks in flight (docs/autoscaling.md).
 */
export const devServerDynamicConfig = [
  '--dynamic-config-value',
  'matching.enableFairness=true',
  '--dynamic-config-value',
  'matching.numTaskqueueReadPartitions=1',
  '--dynamic-config-value',
  'matching.numTaskqueueWritePartitions=1',
  '--dynamic-config-value',
  'frontend.WorkerHeartbeatsEnabled=true',
  '--dynamic-config-value',
  'frontend.ListWorkersEnabled=true',
  '--dynamic-config-value',
  'system.enableActivityEagerExecution=true',
];

/**
 * SQLite in write-ahead-log mode, every commit still synced (`synchronous=full`: nothing
 * committed is lost to a crash or a power cut). The default rollback journal writes each page
 * twice and syncs both; WAL cut the dev server's CPU per no-op item by about a third and raised
 * throughput by a fifth (docs/benchmarks.md). The database gets `-wal` and `-shm` files beside it.
 */
export const devServerSqlitePragmas = ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=full'];

export interface DevServerOptions {
  cliPath: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** SQLite file: a restart keeps every execution. */
  dbFile: string;
  logFile: string;
}

/**
 * The embedded Temporal: the CLI's dev server (Temporal Server 1.29 + Web UI) with SQLite
 * persistence. Returns once the frontend accepts connections.
 */
export async function startDevServer(options: DevServerOptions): Promise<ManagedProcess> {
  for (const port of [options.port, options.uiPort]) {
    if (await portOpen(port)) {
      throw new Error(
        `Port ${port} is already in use, so the embedded Temporal server cannot start.\n` +
          `If a Temporal server is already running there, use it: TEMPORAL_ADDRESS=127.0.0.1:${options.port} npm start.\n` +
          'Otherwise pick free ports with TEMPORAL_DEV_PORT and TEMPORAL_UI_PORT.',
      );
    }
  }
  fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
  const server = startProcess(
    'temporal dev server',
    options.cliPath,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(options.port),
      '--ui-port',
      String(options.uiPort),
      '--db-filename',
      options.dbFile,
      '--namespace',
      options.namespace,
      '--log-level',
      'warn',
      ...devServerDynamicConfig,
      ...devServerSqlitePragmas,
    ],
    { output: options.logFile },
  );
  try {
    await waitFor(
      `the Temporal dev server on port ${options.port} (log: ${options.logFile})`,
      async () => {
        if (!server.running) throw new Error(`The Temporal dev server exited early; see ${options.logFile}.`);
        return (await portOpen(options.port)) && (await portOpen(options.uiPort));
      },
      60_000,
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}
