/**
 * `npm run autoscaler [-- --config deploy/autoscale.yaml]`: keeps each configured pool of worker
 * processes between its min and max from its task queue's backlog, against TEMPORAL_ADDRESS (or
 * the embedded server of `npm start`). Logs one JSON line per event; Ctrl-C (or SIGTERM) stops
 * every worker it started, each after it finished its tasks in flight.
 */
import path from 'node:path';
import { connectToTemporal } from '../client/connect';
import { frontendAddress, loadConfig } from '../infra/config';
import { dataDir, displayPath } from '../infra/paths';
import { stopAll } from '../infra/processes';
import { kafkaBrokers } from '../topics/kafka-brokers';
import { sleep } from '../infra/wait';
import { workerShutdownGraceSeconds } from '../workers/create-workers';
import { buildWorkflowBundle } from '../workers/workflow-bundle';
import { defaultAutoscaleFile, loadAutoscaleConfig } from './config';
import { Autoscaler } from './controller';
import { ConsumerLagReader } from './consumer-lag';
import { poolWorkerStarter } from './pool-worker';
import { autoscalerAlive, autoscalerStateFile, readAutoscalerState } from './state';

const usage = `Usage: npm run autoscaler -- [--config FILE]

Starts and stops worker processes per task queue from its backlog, between each pool's min and
max (FILE: default deploy/autoscale.yaml, or BATCH_AUTOSCALE_CONFIG). State: <data>/autoscaler/state.json
(see \`npm run cli -- status\`); worker logs: <data>/logs/autoscaler/.
Environment: TEMPORAL_ADDRESS (default: the embedded stack of npm start at 127.0.0.1:7233), BATCH_DATA_DIR;
BATCH_KAFKA_BROKERS for pools with kafkaLag (default: the project's broker, 127.0.0.1:BATCH_KAFKA_PORT).`;

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
  // A stopped worker finishes its tasks in flight within its shutdown grace; kill only after that.
  const drainMs = (workerShutdownGraceSeconds + 10) * 1000;
  // Only the workflows role runs workflow code: bundle it once for every process of that pool.
  const bundle = autoscale.pools.some((p) => p.roles === 'workflows') ? await buildWorkflowBundle() : undefined;
  // Pools with kafkaLag read their consumer group's lag from BATCH_KAFKA_BROKERS (or the project's broker).
  const lagReader = autoscale.pools.some((p) => p.kafkaLag) ? new ConsumerLagReader(kafkaBrokers()) : undefined;
  const autoscaler = new Autoscaler({
    client: connection,
    namespace: config.namespace,
    autoscale,
    startWorker: poolWorkerStarter(config, bundle),
    logDir: path.join(dataDir, 'logs', 'autoscaler'),
    stateFile,
    drainMs,
    log: (event) => console.log(JSON.stringify(event)),
    lagReader,
  });
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.error('[autoscaler] Stopping: every worker finishes its tasks in flight first...');
    // A crash may have left the control loop wedged: the drain gets its time, then stopAll kills.
    await Promise.race([autoscaler.stop(), sleep(drainMs)]).catch(() => undefined);
    await connection.close().catch(() => undefined);
    await lagReader?.close();
    await stopAll();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(130));
  process.on('SIGTERM', () => void shutdown(143));
  // Its own crash must not leave its workers running untracked: stop them, then exit non-zero.
  const crash = (error: unknown) => {
    console.error(`[autoscaler] Crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    void shutdown(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  // (A SIGKILL runs none of this: each worker stops itself once its parent is gone, exit-with-parent.ts.)
  if (process.env.BATCH_FAULT_CRASH === 'autoscaler') injectCrashOnceAWorkerRuns(stateFile);
  console.error(
    `[autoscaler] ${autoscale.pools.length} pools (${autoscale.pools.map((p) => p.name).join(', ')}) on ${frontendAddress(config)}, every ${autoscale.intervalSeconds} s; state in ${displayPath(stateFile)}. Ctrl-C stops it.`,
  );
  autoscaler.start();
}

/**
 * Fault injection for the crash test (like src/activities/fault-point.ts), off unless
 * BATCH_FAULT_CRASH=autoscaler: an uncaught error once the state file lists a running worker.
 */
function injectCrashOnceAWorkerRuns(stateFile: string): void {
  const timer = setInterval(() => {
    const running = readAutoscalerState(stateFile)?.pools.some((p) => p.workers.some((w) => w.state === 'running'));
    if (!running) return;
    clearInterval(timer);
    throw new Error('fault injection (BATCH_FAULT_CRASH=autoscaler): an uncaught error in the autoscaler');
  }, 200);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
