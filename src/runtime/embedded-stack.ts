import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ensureSearchAttributes } from '../client/search-attributes';
import { BatchConfig, frontendAddress } from './config';
import { startDevServer } from './dev-server';
import { dataDir, repoRoot } from './paths';
import { shardsOfSpecs } from '../workers/shard-queues';
import { ManagedProcess } from './processes';
import { startWorkerProcess } from './worker-process';
import { ensureTemporalCli } from './tools/temporal-cli';
import { buildWorkflowBundle } from '../workers/workflow-bundle';

export interface Stack {
  connection: Connection;
  server?: ManagedProcess;
  workers: ManagedProcess[];
  logDir: string;
  /** Starts one more worker process (all roles), e.g. after a crash. */
  startWorker(): Promise<ManagedProcess>;
  stop(): Promise<void>;
}

/**
 * Everything `npm start` runs: the embedded dev server (unless TEMPORAL_ADDRESS is set), the
 * search attributes, a prebuilt workflow bundle and the worker process(es).
 */
export async function startStack(config: BatchConfig, log: (line: string) => void, workerCount = 1): Promise<Stack> {
  const logDir = path.join(dataDir, 'logs');
  let server: ManagedProcess | undefined;
  if (!config.temporalAddress) {
    const cliPath = await ensureTemporalCli(log);
    log(`Starting the Temporal dev server on 127.0.0.1:${config.devServerPort} (Web UI ${config.webUiUrl})...`);
    server = await startDevServer({
      cliPath,
      port: config.devServerPort,
      uiPort: config.webUiPort,
      namespace: config.namespace,
      dbFile: path.join(dataDir, 'temporal', 'temporal.db'),
      logFile: path.join(logDir, 'temporal-server.log'),
    });
  } else {
    log(`Using the Temporal cluster at ${config.temporalAddress} (TEMPORAL_ADDRESS); no embedded server.`);
  }
  const workers: ManagedProcess[] = [];
  let connection: Connection | undefined;
  const stop = async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await connection?.close();
    await server?.stop();
  };
  try {
    connection = await Connection.connect({ address: frontendAddress(config) });
    await ensureSearchAttributes(connection, config.namespace);
    log('Bundling the workflow code for the workers...');
    const bundle = await buildWorkflowBundle();
    const startWorker = async () => {
      const name = `worker ${workers.length}`;
      const logFile = path.join(logDir, `worker-${workers.length}.log`);
      // The example pipelines' shard queues are served too, so `npm run cli -- run <example>` works.
      const shards = shardsOfSpecs(path.join(repoRoot, 'pipelines', 'examples'));
      const worker = await startWorkerProcess({ name, config, workflowBundlePath: bundle, logFile, shards });
      workers.push(worker);
      return worker;
    };
    for (let i = 0; i < workerCount; i++) await startWorker();
    log(
      `${workerCount} worker process${workerCount === 1 ? '' : 'es'} polling (logs in ${path.relative(process.cwd(), logDir)}/).`,
    );
    return { connection, server, workers, logDir, startWorker, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
