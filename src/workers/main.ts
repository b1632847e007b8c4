/**
 * A worker process: `node --require tsx/cjs src/workers/main.ts [--roles workflows,video,image]`.
 * Connects to TEMPORAL_ADDRESS (or the embedded dev server), polls the roles' task queues and
 * stops gracefully on SIGINT/SIGTERM. Logs one `worker ready` line when polling. Serves Prometheus
 * metrics on BATCH_METRICS_PORT and logs JSON lines unless on a terminal (docs/observability.md).
 */
import os from 'node:os';
import type { Logger } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { frontendAddress, loadConfig } from '../infra/config';
import { createWorkers } from './create-workers';
import { parseRoles } from './roles';
import { parseShardQueues } from './shard-queues';
import { parseSteal, stealPlan } from './steal-option';
import { WorkStealer } from './work-stealer';
import { shardQueueActivities } from './shard-activities';
import { installTelemetry } from '../infra/telemetry/install';
import { checkStorage } from '../storage/storage';
import { removeOrphanScratch } from '../storage/scratch';

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** The process's logger once telemetry is installed, for a fatal error (before that: stderr, as text). */
let log: Logger | undefined;

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(
      'Usage: worker [--roles workflows,video,image,stages|all] [--shards queue:count|queue#k,...] [--steal queue:shards:own]\n' +
        '  --steal: serve shard <own> and, while it has no backlog, the sibling shard with the largest backlog\n' +
        'Env: BATCH_STORAGE (local|s3) and BATCH_S3_ENDPOINT, _BUCKET, _REGION, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY, _FORCE_PATH_STYLE, _PREFIX;\n' +
        "     BATCH_DATA_DIR (this host's data and scratch), TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, BATCH_WORKFLOW_BUNDLE, BATCH_WORKER_ROLES, BATCH_SHARD_QUEUES, BATCH_STEAL,\n" +
        '     BATCH_METRICS_PORT (port or host:port of /metrics; unset: none), BATCH_LOG_FORMAT (json|text), BATCH_LOG_LEVEL',
    );
    return;
  }
  // Before any connection: the SDK Runtime carries the metrics endpoint and the logger.
  // Worker heartbeats carry each Worker's task slots in use: the in-flight count the autoscaler
  // reads with ListWorkers (src/autoscaler/queue-load.ts). The SDK's default, every 60 s, would
  // let a busy pool look idle for a minute; one small call a second per process is cheap.
  const telemetry = installTelemetry({ process: 'worker', runsWorkers: true, workerHeartbeatInterval: '1 second' });
  log = telemetry.logger;
  const config = loadConfig();
  const roles = parseRoles(argValue('--roles') ?? process.env.BATCH_WORKER_ROLES);
  const shardQueues = parseShardQueues(argValue('--shards') ?? process.env.BATCH_SHARD_QUEUES);
  const steal = parseSteal(argValue('--steal') ?? process.env.BATCH_STEAL);
  const stealing = steal && stealPlan(steal);
  // A worker that steals serves its own shard as well.
  if (stealing && !shardQueues.includes(stealing.own)) shardQueues.push(stealing.own);
  // Before polling: a wrong S3 credential or a missing bucket stops the worker here with what to
  // fix, instead of failing item by item; scratch left by a killed worker on this host goes.
  const store = await checkStorage();
  const orphans = await removeOrphanScratch();
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
    telemetry.logger.info('worker ready', {
      roles,
      ...(shardQueues.length ? { shards: shardQueues } : {}),
      address: frontendAddress(config),
      storage: store.description,
      ...(orphans ? { removedOrphanScratch: orphans } : {}),
      metrics: telemetry.metricsUrl ?? 'off (BATCH_METRICS_PORT unset)',
    });
    const stealer =
      stealing &&
      new WorkStealer({
        connection,
        namespace: config.namespace,
        ...stealing,
        // The stolen siblings are shards of the same stage or flow: the same activities.
        activities: shardQueueActivities(stealing.own, config),
        workerOptions: { identity: `${process.pid}@${os.hostname()}/steal` },
        log: (line) => telemetry.logger.info(line),
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
  const message = error instanceof Error ? error.message : String(error);
  if (log) log.error(message);
  else console.error(message);
  process.exit(1);
});
