import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ensureSearchAttributes } from '../client/search-attributes';
import { BatchConfig, frontendAddress } from './config';
import { startDevServer } from './dev-server';
import { dataDir, displayPath, repoRoot } from './paths';
import { shardsOfSpecs } from '../workers/shard-queues';
import { ManagedProcess } from './processes';
import { startWorkerProcess } from './worker-process';
import { MailCatcher, startMailCatcher } from './mail-catcher';
import { withWorkerMetricsPort } from './telemetry/worker-metrics-ports';
import { ensureTemporalCli } from './tools/temporal-cli';
import { buildWorkflowBundle } from '../workers/workflow-bundle';

export interface Stack {
  connection: Connection;
  server?: ManagedProcess;
  workers: ManagedProcess[];
  logDir: string;
  /** The local mail catcher, started when no SMTP server is configured (BATCH_SMTP_HOST). */
  mailCatcher?: MailCatcher;
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
  let mailCatcher: MailCatcher | undefined;
  const stop = async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await mailCatcher?.stop();
    await connection?.close();
    await server?.stop();
  };
  try {
    connection = await Connection.connect({ address: frontendAddress(config) });
    await ensureSearchAttributes(connection, config.namespace);
    if (!config.mail.smtpHost) {
      log(
        `Starting the mail catcher: SMTP on 127.0.0.1:${config.mail.smtpPort}, mails readable at ${config.mail.uiUrl}...`,
      );
      mailCatcher = await startMailCatcher({
        smtpPort: config.mail.smtpPort,
        webPort: config.mail.uiPort,
        logFile: path.join(logDir, 'mail-catcher.log'),
      });
    } else {
      log(`Sending mail through ${config.mail.smtpHost}:${config.mail.smtpPort} (BATCH_SMTP_HOST); no mail catcher.`);
    }
    log('Bundling the workflow code for the workers...');
    const bundle = await buildWorkflowBundle();
    const startWorker = async () => {
      const name = `worker ${workers.length}`;
      const logFile = path.join(logDir, `worker-${workers.length}.log`);
      // The example pipelines' shard queues are served too, so `npm run cli -- run <example>` works.
      // And the sign-up flow's shard queues, with the mail and SMS activities.
      const shards = [
        shardsOfSpecs(path.join(repoRoot, 'pipelines', 'examples')),
        `${config.signup.queue}:${config.signup.shards}`,
      ]
        .filter(Boolean)
        .join(',');
      // Each worker process serves its own metrics port (BATCH_METRICS_PORT and up, default 9464).
      const { started: worker, metricsUrl } = await withWorkerMetricsPort((metricsAddress) =>
        startWorkerProcess({ name, config, workflowBundlePath: bundle, logFile, shards, metricsAddress }),
      );
      workers.push(worker);
      if (metricsUrl) log(`${name}: Prometheus metrics on ${metricsUrl} (docs/observability.md).`);
      return worker;
    };
    for (let i = 0; i < workerCount; i++) await startWorker();
    log(`${workerCount} worker process${workerCount === 1 ? '' : 'es'} polling (logs in ${displayPath(logDir)}/).`);
    return { connection, server, workers, logDir, mailCatcher, startWorker, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
