/**
 * `npm run autoscaler [-- --config deploy/autoscale.yaml]`: keeps each configured pool of worker
 * processes between its min and max from its task queue's backlog, against TEMPORAL_ADDRESS (or
 * the embedded server of `npm start`). Logs one JSON line per event; Ctrl-C (or SIGTERM) stops
 * every worker it started, each after it finished its tasks in flight.
 */
import path from 'node:path';
import { connectToTemporal } from '../client/connect';
import { frontendAddress, loadConfig } from '../runtime/config';
import { dataDir, displayPath } from '../runtime/paths';
import { stopAll } from '../runtime/processes';
import { workerShutdownGraceSeconds } from '../workers/create-workers';
import { buildWorkflowBundle } from '../workers/workflow-bundle';
import { defaultAutoscaleFile, loadAutoscaleConfig } from './config';
import { Autoscaler } from './controller';
import { poolWorkerStarter } from './pool-worker';
import { autoscalerAlive, autoscalerStateFile, readAutoscalerState } from './state';

const usage = `Usage: npm run autoscaler -- [--config FILE]

Starts and stops worker processes per task queue from its backlog, between each pool's min and
max (FILE: default deploy/autoscale.yaml, or BATCH_AUTOSCALE_CONFIG). State: <data>/autoscaler/state.json
(see \`npm run cli -- status\`); worker logs: <data>/logs/autoscaler/.
Environment: TEMPORAL_ADDRESS (default: the embedded stack of npm start at 127.0.0.1:7233), BATCH_DATA_DIR.`;

function configFile(argv: string[]): string {
  const i = argv.indexOf('--config');
  if (i < 0) return process.env.BATCH_AUTOSCALE_CONFIG || defaultAutoscaleFile;
  const value = argv[i + 1];
  if (!value || value.startsWith('--')) throw new Error(`--config needs a file.\n\n${usage}`);
  return path.resolve(value);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) return console.log(usage);
  const unknown = argv.filter((arg, i) => arg.startsWith('--') && arg !== '--config' && argv[i - 1] !== '--config');
  if (unknown.length > 0) throw new Error(`Unknown option ${unknown[0]}.\n\n${usage}`);
  const config = loadConfig();
  const autoscale = loadAutoscaleConfig(configFile(argv), config);
  const stateFile = autoscalerStateFile(dataDir);
  const previous = readAutoscalerState(stateFile);
  if (previous && previous.pid !== process.pid && autoscalerAlive(previous)) {
    throw new Error(
      `An autoscaler (pid ${previous.pid}) already runs with the data folder ${dataDir}; stop it first, or give this one its own BATCH_DATA_DIR.`,
    );
  }
  const connection = await connectToTemporal(config);
  // Only the workflows role runs workflow code: bundle it once for every process of that pool.
  const bundle = autoscale.pools.some((p) => p.roles === 'workflows') ? await buildWorkflowBundle() : undefined;
  const autoscaler = new Autoscaler({
    client: connection,
    namespace: config.namespace,
    autoscale,
    startWorker: poolWorkerStarter(config, bundle),
    logDir: path.join(dataDir, 'logs', 'autoscaler'),
    stateFile,
    // A stopped worker finishes its tasks in flight within its shutdown grace; kill only after that.
    drainMs: (workerShutdownGraceSeconds + 10) * 1000,
    log: (event) => console.log(JSON.stringify(event)),
  });
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.error('[autoscaler] Stopping: every worker finishes its tasks in flight first...');
    await autoscaler.stop();
    await connection.close();
    await stopAll();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(130));
  process.on('SIGTERM', () => void shutdown(143));
  console.error(
    `[autoscaler] ${autoscale.pools.length} pools (${autoscale.pools.map((p) => p.name).join(', ')}) on ${frontendAddress(config)}, every ${autoscale.intervalSeconds} s; state in ${displayPath(stateFile)}. Ctrl-C stops it.`,
  );
  autoscaler.start();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
