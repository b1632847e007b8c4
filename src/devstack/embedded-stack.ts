import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ensureSearchAttributes } from '../client/search-attributes';
import { BatchConfig, frontendAddress } from '../infra/config';
import { startDevServer } from './dev-server';
import { dataDir, displayPath, repoRoot } from '../infra/paths';
import { shardsOfSpecs } from '../workers/shard-queues';
import { ManagedProcess } from '../infra/processes';
import { Supervisor } from './supervisor';
import { portOpen, waitFor } from '../infra/wait';
import { startWorkerProcess } from '../infra/worker-process';
import { MailCatcher, startMailCatcher } from './mail-catcher';
import { withWorkerMetricsPort } from '../infra/telemetry/worker-metrics-ports';
import { ensureTemporalCli } from './tools/temporal-cli';
import { buildWorkflowBundle } from '../workers/workflow-bundle';
import { StorageConfig, storageConfigFromEnv, storageEnv } from '../storage/storage-config';
import type { S3EventsOptions, S3Gateway } from './s3-gateway';
import { bucketEventsTopic, uploadsBucketFromEnv } from '../client/bucket-uploads';
import type { GatewayPlan } from './stack-storage';
import { startSupervisedS3Gateway, SupervisedS3Gateway } from './supervised-s3-gateway';
import { type KafkaBrokerPlan, startSupervisedKafkaBroker, SupervisedKafkaBroker } from './supervised-kafka-broker';

export interface Stack {
  connection: Connection;
  /** The dev server running now (a restart replaces it). */
  readonly server?: ManagedProcess;
  /** The worker processes running now. */
  readonly workers: ManagedProcess[];
  logDir: string;
  /**
   * Settles with a message when a supervised process (dev server, worker) died more often than
   * the restart limit allows (src/devstack/supervisor.ts): the stack is no longer whole.
   */
  gaveUp: Promise<string>;
  /** The local mail catcher, started when no SMTP server is configured (BATCH_SMTP_HOST); supervised too. */
  readonly mailCatcher?: MailCatcher;
  /** The S3 gateway the stack started (`npm start -- --s3`), supervised too; its data stays across restarts. */
  readonly s3Gateway?: S3Gateway;
  /** The Kafka broker the stack started (`npm start -- --kafka`), supervised too; `127.0.0.1:<port>`. */
  readonly kafkaBootstrap?: string;
  /** What the workers store data in: the local folder, the stack's gateway or an S3 service of the environment. */
  storage: StorageConfig;
  /** Starts one more worker process (all roles), e.g. after a crash. */
  startWorker(): Promise<ManagedProcess>;
  stop(): Promise<void>;
}

/**
 * Everything `npm start` runs: the embedded dev server (unless TEMPORAL_ADDRESS is set), the
 * search attributes, the S3 gateway (with `--s3`), the Kafka broker (with `--kafka`), a prebuilt workflow bundle and the worker
 * process(es). The dev server, the gateway and the workers are supervised: one that dies is restarted, within a limit (docs/operations-supervision.md).
 */
export interface StackOptions {
  /** Worker processes to start (default 1). */
  workerCount?: number;
  /** Start the project's S3 gateway (`--s3`) and run the workers on its bucket. */
  s3Gateway?: GatewayPlan;
  /**
   * Storage for the workers when no gateway is started here: an S3 service of the environment or
   * another process's gateway. Default: what the environment says (BATCH_STORAGE, BATCH_S3_*).
   */
  storage?: StorageConfig;
  /** Start the project's Kafka broker (`--kafka` without BATCH_KAFKA_BROKERS), supervised; topics stay across restarts. */
  kafkaBroker?: KafkaBrokerPlan;
  /** A Kafka already running (BATCH_KAFKA_BROKERS, the cluster's) that the stack's S3 gateway notifies. */
  kafkaBrokers?: string[];
}

export async function startStack(
  config: BatchConfig,
  log: (line: string) => void,
  options: StackOptions | number = {},
): Promise<Stack> {
  const {
    workerCount = 1,
    s3Gateway: gatewayPlan,
    storage: givenStorage,
    kafkaBroker: kafkaPlan,
    kafkaBrokers,
  } = typeof options === 'number' ? { workerCount: options } : options;
  const logDir = path.join(dataDir, 'logs');
  let giveUp: (message: string) => void = () => undefined;
  const gaveUp = new Promise<string>((resolve) => (giveUp = resolve));
  let server: Supervisor | undefined;
  if (!config.temporalAddress) {
    const cliPath = await ensureTemporalCli(log);
    log(`Starting the Temporal dev server on 127.0.0.1:${config.devServerPort} (Web UI ${config.webUiUrl})...`);
    const ports = [config.devServerPort, config.webUiPort];
    const options = {
      cliPath,
      port: config.devServerPort,
      uiPort: config.webUiPort,
      namespace: config.namespace,
      // The same file on every restart: the server comes back with every execution.
      dbFile: path.join(dataDir, 'temporal', 'temporal.db'),
      logFile: path.join(logDir, 'temporal-server.log'),
    };
    server = await Supervisor.start({
      name: 'the Temporal dev server',
      logFile: options.logFile,
      log,
      onGiveUp: giveUp,
      start: onTheSamePorts(ports, () => startDevServer(options)),
    });
  } else {
    log(`Using the Temporal cluster at ${config.temporalAddress} (TEMPORAL_ADDRESS); no embedded server.`);
  }
  const workers: Supervisor[] = [];
  let gateway: SupervisedS3Gateway | undefined;
  let kafka: SupervisedKafkaBroker | undefined;
  let storage: StorageConfig = givenStorage ?? storageConfigFromEnv();
  let connection: Connection | undefined;
  let mailCatcher: MailCatcher | undefined;
  let mail: Supervisor | undefined;
  const stop = async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await mail?.stop();
    await gateway?.stop();
    await kafka?.stop();
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
      const options = {
        smtpPort: config.mail.smtpPort,
        webPort: config.mail.uiPort,
        logFile: path.join(logDir, 'mail-catcher.log'),
      };
      // Mails it held are lost with it (memory only); new ones are caught again after the restart.
      mail = await Supervisor.start({
        name: 'the mail catcher',
        logFile: options.logFile,
        log,
        onGiveUp: giveUp,
        start: onTheSamePorts([options.smtpPort, options.webPort], async () => {
          mailCatcher = await startMailCatcher(options);
          return mailCatcher.process;
        }),
      });
    } else {
      log(`Sending mail through ${config.mail.smtpHost}:${config.mail.smtpPort} (BATCH_SMTP_HOST); no mail catcher.`);
    }
    // Kafka first: with both, the gateway sends its bucket notifications there (CatTube uploads).
    if (kafkaPlan) kafka = await startSupervisedKafkaBroker(kafkaPlan, log, giveUp);
    const notified = kafka ? [kafka.bootstrap] : kafkaBrokers;
    if (gatewayPlan) {
      gateway = await startSupervisedS3Gateway(gatewayPlan, log, giveUp, {
        events: notified?.length ? bucketEvents(notified) : undefined,
      });
      storage = gateway.current.storage;
    }
    log('Bundling the workflow code for the workers...');
    const bundle = await buildWorkflowBundle();
    const startWorker = async () => {
      const name = `worker ${workers.length}`;
      const logFile = path.join(logDir, `worker-${workers.length}.log`);
      const supervised = await Supervisor.start({
        name,
        logFile,
        log,
        onGiveUp: giveUp,
        start: () => startOneWorker(name, logFile),
      });
      workers.push(supervised);
      return supervised.current;
    };
    const startOneWorker = async (name: string, logFile: string) => {
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
        startWorkerProcess({
          name,
          config,
          workflowBundlePath: bundle,
          logFile,
          shards,
          metricsAddress,
          // Explicit only when chosen here: otherwise the workers inherit BATCH_STORAGE/BATCH_S3_*.
          env: gatewayPlan || givenStorage ? storageEnv(storage) : undefined,
        }),
      );
      if (metricsUrl) log(`${name}: Prometheus metrics on ${metricsUrl} (docs/observability.md).`);
      return worker;
    };
    for (let i = 0; i < workerCount; i++) await startWorker();
    log(`${workerCount} worker process${workerCount === 1 ? '' : 'es'} polling (logs in ${displayPath(logDir)}/).`);
    return {
      connection,
      get server() {
        return server?.current;
      },
      get workers() {
        return workers.map((w) => w.current);
      },
      logDir,
      gaveUp,
      get mailCatcher() {
        return mailCatcher;
      },
      get s3Gateway() {
        return gateway?.current;
      },
      kafkaBootstrap: kafka?.bootstrap,
      storage,
      startWorker,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The gateway's Kafka target: object-created events of the uploads bucket (BATCH_UPLOADS_BUCKET) on `bucket-events`. */
function bucketEvents(kafkaBrokers: string[]): S3EventsOptions {
  return { kafkaBrokers, topic: bucketEventsTopic, uploadsBucket: uploadsBucketFromEnv().bucket };
}

/** `start`, which binds `ports`; a restart first waits for them (a dead process's ports may take a moment). */
function onTheSamePorts(ports: number[], start: () => Promise<ManagedProcess>): () => Promise<ManagedProcess> {
  let first = true;
  return async () => {
    if (!first) {
      const free = async () => (await Promise.all(ports.map((port) => portOpen(port)))).every((open) => !open);
      await waitFor(`ports ${ports.join(', ')} to be free`, free, 30_000);
    }
    first = false;
    return start();
  };
}
