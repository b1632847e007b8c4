import fs from 'node:fs';
import type { BatchConfig } from './config';
import { frontendAddress } from './config';
import { ManagedProcess, startTsProcess } from './processes';
import { waitFor } from './wait';

export interface WorkerProcessOptions {
  name: string;
  config: BatchConfig;
  workflowBundlePath: string;
  logFile: string;
  roles?: string;
  /** `queue:count,…` shard queues to serve as well (see src/workers/shard-queues.ts). */
  shards?: string;
}

/** The environment a worker process reads its configuration from (see src/runtime/config.ts). */
function workerEnv(config: BatchConfig, workflowBundlePath: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: frontendAddress(config),
    TEMPORAL_NAMESPACE: config.namespace,
    BATCH_WORKFLOW_QUEUE: config.queues.workflow,
    BATCH_VIDEO_QUEUE: config.queues.video,
    BATCH_IMAGE_QUEUE: config.queues.image,
    BATCH_STAGE_QUEUE: config.queues.stages,
    BATCH_WORKFLOW_BUNDLE: workflowBundlePath,
  };
}

/** Starts `src/workers/main.ts` as its own process and resolves once it polls its queues. */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<ManagedProcess> {
  const offset = fs.existsSync(options.logFile) ? fs.statSync(options.logFile).size : 0;
  const args = ['--roles', options.roles ?? 'all', ...(options.shards ? ['--shards', options.shards] : [])];
  const worker = startTsProcess(options.name, 'src/workers/main.ts', args, {
    output: options.logFile,
    env: workerEnv(options.config, options.workflowBundlePath),
  });
  const logSoFar = () => (fs.existsSync(options.logFile) ? fs.readFileSync(options.logFile, 'utf8').slice(offset) : '');
  await waitFor(
    `${options.name} to start polling (log: ${options.logFile})`,
    async () => {
      if (!worker.running) throw new Error(`${options.name} exited at start:\n${logSoFar().slice(-2000)}`);
      return logSoFar().includes('worker ready');
    },
    60_000,
  );
  return worker;
}
