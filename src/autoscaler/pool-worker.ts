/**
 * Starts one worker process of an autoscaled pool: the project's own worker entry point
 * (src/workers/main.ts) with the pool's `--roles` / `--shards`, so an autoscaled worker is the
 * same program a person starts with `npm run worker`.
 */
import type { BatchConfig } from '../infra/config';
import type { ManagedProcess } from '../infra/processes';
import { startWorkerProcess } from '../infra/worker-process';
import type { AutoscalePool } from './config';

export function poolWorkerStarter(
  config: BatchConfig,
  workflowBundlePath: string | undefined,
): (pool: AutoscalePool, worker: { id: number; logFile: string }) => Promise<ManagedProcess> {
  return (pool, worker) =>
    startWorkerProcess({
      name: `autoscaled worker ${pool.name} ${worker.id}`,
      config,
      workflowBundlePath,
      logFile: worker.logFile,
      roles: pool.roles,
      shards: pool.shards,
    });
}
