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
import { parseShardQueues } from './shard-queues';
import { parseSteal, stealPlan } from './steal-option';
import { WorkStealer } from './work-stealer';
import { stageActivities } from '../activities/pipeline';

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(
      'Usage: worker [--roles workflows,video,image,stages|all] [--shards queue:count|queue#k,...] [--steal queue:shards:own]\n' +
        '  --steal: serve shard <own> and, while it has no backlog, the sibling shard with the largest backlog\n' +
        'Env: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, BATCH_WORKFLOW_BUNDLE, BATCH_WORKER_ROLES, BATCH_SHARD_QUEUES, BATCH_STEAL',
    );
    return;
  }
  const config = loadConfig();
  const roles = parseRoles(argValue('--roles') ?? process.env.BATCH_WORKER_ROLES);
  const shardQueues = parseShardQueues(argValue('--shards') ?? process.env.BATCH_SHARD_QUEUES);
  const steal = parseSteal(argValue('--steal') ?? process.env.BATCH_STEAL);
  const stealing = steal && stealPlan(steal);
  // A worker that steals serves its own shard as well.
  if (stealing && !shardQueues.includes(stealing.own)) shardQueues.push(stealing.own);
  const connection = await NativeConnection.connect({ address: frontendAddress(config) });
  try {
    const workers = await createWorkers({
      connection,
      config,
      roles,
      shardQueues,
      workflowBundlePath: process.env.BATCH_WORKFLOW_BUNDLE || undefined,
      identity: `${process.pid}@${os.hostname()}`,
    });
    const shards = shardQueues.length ? ` shards=${shardQueues.join(',')}` : '';
    console.log(`worker ready pid=${process.pid} roles=${roles.join(',')}${shards} address=${frontendAddress(config)}`);
    const stealer =
      stealing &&
      new WorkStealer({
        connection,
        namespace: config.namespace,
        ...stealing,
        activities: stageActivities,
        workerOptions: { identity: `${process.pid}@${os.hostname()}/steal` },
        log: (line) => console.log(line),
      });
    stealer?.start();
    try {
      await Promise.all(workers.map((w) => w.run()));
    } finally {
      await stealer?.stop();
    }
  } finally {
    await connection.close();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
