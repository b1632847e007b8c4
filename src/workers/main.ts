/**
 * A worker process: `node --require tsx/cjs src/workers/main.ts [--roles workflows,video,image]`.
 * Connects to TEMPORAL_ADDRESS (or the embedded dev server), polls the roles' task queues and
 * stops gracefully on SIGINT/SIGTERM. Prints one `worker ready` line when polling.
 */
import os from 'node:os';
import { NativeConnection } from '@temporalio/worker';
import { frontendAddress, loadConfig } from '../runtime/config';
import { createWorkers } from './create-workers';
import { parseRoles } from './roles';

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(
      'Usage: worker [--roles workflows,video,image|all]\nEnv: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, BATCH_WORKFLOW_BUNDLE',
    );
    return;
  }
  const config = loadConfig();
  const roles = parseRoles(argValue('--roles') ?? process.env.BATCH_WORKER_ROLES);
  const connection = await NativeConnection.connect({ address: frontendAddress(config) });
  try {
    const workers = await createWorkers({
      connection,
      config,
      roles,
      workflowBundlePath: process.env.BATCH_WORKFLOW_BUNDLE || undefined,
      identity: `${process.pid}@${os.hostname()}`,
    });
    console.log(`worker ready pid=${process.pid} roles=${roles.join(',')} address=${frontendAddress(config)}`);
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    await connection.close();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
