import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureSearchAttributes } from '../client/search-attributes';
import { allSearchAttributes } from '../core/search-attributes';
import type { ManagedProcess } from '../infra/processes';
import { freePort, portOpen, sleep, waitFor } from '../infra/wait';
import { ensureTemporalServer } from '../devstack/tools/temporal-server';
import { ensureUiServer } from '../devstack/tools/ui-server';
import { Postgres } from './postgres';
import { ensureSchemas } from './schema';
import { Supervisor, type SupervisorOptions } from '../devstack/supervisor';
import { ServicesOptions, TemporalService, serviceLogFile, startService, temporalServices } from './temporal-services';
import { startUiServer } from './ui-server';
import { S3Gateway, startS3Gateway } from '../devstack/s3-gateway';
import type { GatewayPlan } from '../devstack/stack-storage';
import type { KafkaBroker } from '../devstack/kafka-broker';
import { bucketEventsTopic, uploadsBucketFromEnv } from '../client/bucket-uploads';
import { type KafkaBrokerPlan, kafkaBrokerStarter } from '../devstack/supervised-kafka-broker';

/**
 * A Temporal cluster on this machine, as an operator would run it: PostgreSQL, the four services
 * as separate processes, the Web UI server, the namespace and the project's search attributes.
 * State lives in `dir` (PostgreSQL data, logs, cluster.json) and survives a restart.
 */
export interface ClusterPorts {
  postgres: number;
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  ui: number;
  /** Prometheus endpoints, one per service process. */
  frontendMetrics: number;
  historyMetrics: number;
  matchingMetrics: number;
  workerMetrics: number;
}

/** `npm run cluster`'s ports: the dev server's frontend and UI ports (use one or the other), the rest beside them. */
export const defaultClusterPorts: ClusterPorts = {
  postgres: 5433,
  frontend: 7233,
  frontendHttp: 7243,
  frontendMembership: 6933,
  history: 7234,
  historyMembership: 6934,
  matching: 7235,
  matchingMembership: 6935,
  worker: 7239,
  workerMembership: 6939,
  ui: 8233,
  frontendMetrics: 9091,
  historyMetrics: 9092,
  matchingMetrics: 9093,
  workerMetrics: 9094,
};

export interface ClusterOptions {
  dir: string;
  ports: ClusterPorts;
  namespace: string;
  /** Fixed at the first start of the database; 4 suits one machine. */
  numHistoryShards: number;
  retentionDays: number;
  /** Tests: PostgreSQL without fsync. */
  fastDb?: boolean;
  /** Skip the Web UI server. */
  noUi?: boolean;
  /** `npm run cluster -- --s3`: the project's S3 gateway as one more service of the cluster. */
  s3Gateway?: GatewayPlan;
  /** `npm run cluster -- --kafka`: the project's Kafka broker as one more service of the cluster. */
  kafka?: KafkaBrokerPlan;
}

/** The cluster's Kafka broker in cluster.json: its address and folder. */
export interface ClusterKafkaInfo {
  bootstrap: string;
  dir: string;
}

/** The cluster's S3 gateway in cluster.json: where it is, not its credentials (they stay in `dir`, mode 0600). */
export interface ClusterS3Info {
  endpoint: string;
  bucket: string;
  dir: string;
}

/** What cluster.json in the cluster folder says: how to reach a running cluster. */
export interface ClusterInfo {
  pid: number;
  frontendAddress: string;
  uiUrl?: string;
  postgres: string;
  namespace: string;
  numHistoryShards: number;
  logDir: string;
  startedAt: string;
  /** Process ids of the services as started (a restarted service gets a new one). */
  servicePids: Partial<Record<TemporalService, number>>;
  s3?: ClusterS3Info;
  kafka?: ClusterKafkaInfo;
}

export const clusterInfoFile = (dir: string) => path.join(dir, 'cluster.json');

/** A port nothing listens on, from 20000-32000: membership ports are stored as smallint (< 32768). */
async function freeLowPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port) || !(await canListen(port))) continue;
    taken.add(port);
    return port;
  }
  throw new Error('No free port found between 20000 and 32000 for a membership port.');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Free ports for every listener (tests and a second cluster beside another). */
export async function freeClusterPorts(): Promise<ClusterPorts> {
  const ports = {} as ClusterPorts;
  const taken = new Set<number>();
  for (const key of Object.keys(defaultClusterPorts) as (keyof ClusterPorts)[]) {
    ports[key] = key.endsWith('Membership') ? await freeLowPort(taken) : await freePort();
  }
  return ports;
}

export class Cluster {
  readonly services = new Map<TemporalService, ManagedProcess>();
  private supervisors?: Map<TemporalService, Supervisor>;
  private gatewaySupervisor?: Supervisor;
  private kafkaSupervisor?: Supervisor;
  private startKafka?: () => Promise<KafkaBroker>;
  /** The Kafka broker running now (`kafka` option); a restart replaces it on the same ports and folder. */
  kafkaBroker?: KafkaBroker;
  ui?: ManagedProcess;
  /** The S3 gateway running now (`s3Gateway` option); a restart replaces it on the same port and folder. */
  s3Gateway?: S3Gateway;

  private constructor(
    readonly options: ClusterOptions,
    readonly postgres: Postgres,
    readonly servicesOptions: ServicesOptions,
    readonly uiServerPath: string | undefined,
  ) {}

  get frontendAddress(): string {
    return `127.0.0.1:${this.options.ports.frontend}`;
  }

  get uiUrl(): string | undefined {
    return this.options.noUi ? undefined : `http://127.0.0.1:${this.options.ports.ui}`;
  }

  get logDir(): string {
    return path.join(this.options.dir, 'logs');
  }

  /** Builds what is missing, then starts everything; returns once the namespace takes workflows. */
  static async start(options: ClusterOptions, log: (line: string) => void): Promise<Cluster> {
    const tools = await ensureTemporalServer(log);
    const uiServerPath = options.noUi ? undefined : await ensureUiServer(log);
    fs.mkdirSync(path.join(options.dir, 'logs'), { recursive: true });
    fs.rmSync(clusterInfoFile(options.dir), { force: true });
    const { ports } = options;
    const logDir = path.join(options.dir, 'logs');
    log(`Starting PostgreSQL on 127.0.0.1:${ports.postgres}...`);
    const postgres = await Postgres.start(
      {
        dir: path.join(options.dir, 'postgres'),
        port: ports.postgres,
        logFile: path.join(logDir, 'postgres.log'),
        fast: options.fastDb,
      },
      log,
    );
    const servicesOptions: ServicesOptions = {
      serverPath: tools.server,
      numHistoryShards: options.numHistoryShards,
      db: { host: '127.0.0.1', port: ports.postgres },
      logDir,
      ports: servicePorts(ports),
    };
    const cluster = new Cluster(options, postgres, servicesOptions, uiServerPath);
    try {
      await ensureSchemas(postgres, tools.sqlTool, log);
      log('Starting the Temporal services: history, matching, frontend, worker...');
      // One after the other: on a fresh database the first service writes the cluster metadata,
      // and two services doing it at once make one of them exit (duplicate key).
      for (const service of ['history', 'matching', 'frontend', 'worker'] as const) await cluster.startService(service);
      await cluster.registerNamespace(log);
      if (uiServerPath) {
        cluster.ui = await startUiServer({
          uiServerPath,
          frontendAddress: cluster.frontendAddress,
          port: ports.ui,
          namespace: options.namespace,
          logFile: path.join(logDir, 'ui-server.log'),
        });
      }
      // Kafka first: with both, the gateway sends its bucket notifications there (CatTube uploads).
      if (options.kafka) {
        log(`Starting the Kafka broker on 127.0.0.1:${options.kafka.port} over ${options.kafka.dir}...`);
        cluster.startKafka = kafkaBrokerStarter(options.kafka, log, (broker) => (cluster.kafkaBroker = broker));
        await cluster.startKafka();
      }
      if (options.s3Gateway) await cluster.startGateway(log);
      cluster.writeInfo();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  async startService(service: TemporalService): Promise<ManagedProcess> {
    const proc = await startService(this.servicesOptions, service);
    this.services.set(service, proc);
    return proc;
  }

  private async startGateway(log: (line: string) => void): Promise<ManagedProcess> {
    const plan = this.options.s3Gateway!;
    log(`Starting the S3 gateway (Versity) on http://127.0.0.1:${plan.port}, bucket ${plan.bucket}...`);
    const kafka = this.options.kafka;
    this.s3Gateway = await startS3Gateway({
      dir: plan.dir,
      port: plan.port,
      buckets: [plan.bucket],
      log,
      // The broker's address stays across its restarts, so the gateway's target does too.
      events: kafka
        ? {
            kafkaBrokers: [`127.0.0.1:${kafka.port}`],
            topic: bucketEventsTopic,
            uploadsBucket: uploadsBucketFromEnv().bucket,
          }
        : undefined,
    });
    return this.s3Gateway.process;
  }

  /** SIGKILL, as a crash would (fault tests). */
  async kill(service: TemporalService): Promise<void> {
    const proc = this.services.get(service);
    if (!proc) return;
    proc.kill();
    await proc.exited;
  }

  /** Namespace `default` (or the configured one) with its retention, then the search attributes. */
  private async registerNamespace(log: (line: string) => void): Promise<void> {
    const connection = await Connection.connect({ address: this.frontendAddress });
    try {
      const namespace = this.options.namespace;
      await waitFor(
        `namespace ${namespace} to be registered`,
        async () => {
          try {
            await connection.workflowService.describeNamespace({ namespace });
            return true;
          } catch {
            // Not there yet, or the frontend is still joining the ring.
          }
          try {
            await connection.workflowService.registerNamespace({
              namespace,
              workflowExecutionRetentionPeriod: msToTs(this.options.retentionDays * 24 * 3600 * 1000),
            });
            log(`Registered namespace ${namespace} (retention ${this.options.retentionDays} days).`);
          } catch {
            // Already exists (raced) or the cluster is not ready: look again.
          }
          return false;
        },
        90_000,
        500,
      );
      let added = false;
      await waitFor(
        'the search attributes to be registered',
        async () => {
          try {
            const listed = await connection.operatorService.listSearchAttributes({ namespace });
            added ||= allSearchAttributes.some((key) => !listed.customAttributes?.[key.name]);
            await ensureSearchAttributes(connection, namespace);
            return true;
          } catch {
            return false;
          }
        },
        60_000,
        500,
      );
      // The history hosts learn new attributes with their namespace cache (refreshed every 2 s,
      // system.namespaceCacheRefreshInterval): a workflow setting them sooner fails a task
      // ("BadSearchAttributes: no mapping defined") and is retried. Let two refreshes pass.
      if (added) await sleep(5000);
      // Every frontend, history and matching host caches namespaces; wait until a visibility query answers.
      await waitFor(
        `namespace ${namespace} to answer visibility queries`,
        async () => {
          try {
            await connection.workflowService.countWorkflowExecutions({ namespace, query: "BatchPipeline = 'x'" });
            return true;
          } catch {
            return false;
          }
        },
        60_000,
        500,
      );
    } finally {
      await connection.close();
    }
  }

  private writeInfo(): void {
    const info: ClusterInfo = {
      pid: process.pid,
      frontendAddress: this.frontendAddress,
      uiUrl: this.uiUrl,
      postgres: `127.0.0.1:${this.options.ports.postgres}`,
      namespace: this.options.namespace,
      numHistoryShards: this.options.numHistoryShards,
      logDir: this.logDir,
      startedAt: new Date().toISOString(),
      servicePids: Object.fromEntries([...this.services].map(([s, p]) => [s, p.child.pid])),
      ...(this.s3Gateway && this.options.s3Gateway
        ? {
            s3: {
              endpoint: this.s3Gateway.endpoint,
              bucket: this.options.s3Gateway.bucket,
              dir: this.options.s3Gateway.dir,
            },
          }
        : {}),
      ...(this.kafkaBroker && this.options.kafka
        ? { kafka: { bootstrap: this.kafkaBroker.bootstrap, dir: this.options.kafka.dir } }
        : {}),
    };
    fs.writeFileSync(clusterInfoFile(this.options.dir), `${JSON.stringify(info, null, 2)}\n`);
  }

  /** Every address, one per line, for a person. */
  addresses(): string[] {
    const p = this.options.ports;
    return [
      `Temporal frontend (gRPC): ${this.frontendAddress}   (TEMPORAL_ADDRESS=${this.frontendAddress})`,
      `Temporal frontend (HTTP): http://127.0.0.1:${p.frontendHttp}`,
      ...(this.uiUrl ? [`Web UI:                   ${this.uiUrl}`] : []),
      `History service:          127.0.0.1:${p.history} (membership ${p.historyMembership})`,
      `Matching service:         127.0.0.1:${p.matching} (membership ${p.matchingMembership})`,
      `Worker service:           127.0.0.1:${p.worker} (membership ${p.workerMembership})`,
      `PostgreSQL:               127.0.0.1:${p.postgres} (user temporal; databases temporal, temporal_visibility; data ${this.postgres.dataDir})`,
      `Prometheus metrics:       ${temporalServices.map((s) => `${s} http://127.0.0.1:${p[`${s}Metrics`]}/metrics`).join(', ')}`,
      ...(this.s3Gateway && this.options.s3Gateway
        ? [
            `S3 gateway (Versity):     ${this.s3Gateway.endpoint} bucket ${this.options.s3Gateway.bucket}, files in ${path.join(this.options.s3Gateway.dir, 'root')}, ` +
              `credentials in ${path.join(this.options.s3Gateway.dir, 'credentials.json')} (npm start -- --cluster --s3 uses it)`,
          ]
        : []),
      ...(this.kafkaBroker && this.options.kafka
        ? [
            `Kafka broker (KRaft):     ${this.kafkaBroker.bootstrap}, data in ${path.join(this.options.kafka.dir, 'data')} ` +
              `(BATCH_KAFKA_BROKERS=${this.kafkaBroker.bootstrap}; npm start -- --cluster --kafka uses it)`,
          ]
        : []),
      `Logs:                     ${this.logDir}`,
    ];
  }

  /**
   * `npm run cluster`: a service that dies is started again, as an operator's process manager
   * would (src/devstack/supervisor.ts: a line says so; more than 5 restarts in 10 minutes gives up).
   * The fault tests restart services themselves instead.
   */
  supervise(log: (line: string) => void, onGiveUp: (message: string) => void): Promise<void> {
    const supervisors = new Map<TemporalService, Supervisor>();
    this.supervisors = supervisors;
    return Promise.all([
      ...temporalServices.map(async (service) => {
        let first = true;
        const supervisor = await Supervisor.start({
          name: `the Temporal ${service} service`,
          logFile: serviceLogFile(this.servicesOptions, service),
          log,
          onGiveUp,
          start: async () => {
            if (!first) return this.startService(service);
            first = false;
            return this.services.get(service)!;
          },
        });
        supervisors.set(service, supervisor);
      }),
      this.superviseGateway(log, onGiveUp),
      this.superviseKafka(log, onGiveUp),
    ]).then(() => undefined);
  }

  /** The S3 gateway, when there is one: restarted on the same port, folder and credentials. */
  private async superviseGateway(log: (line: string) => void, onGiveUp: (message: string) => void): Promise<void> {
    const plan = this.options.s3Gateway;
    if (!plan || !this.s3Gateway) return;
    this.gatewaySupervisor = await superviseRunning({
      name: 'the S3 gateway',
      logFile: this.s3Gateway.logFile,
      log,
      onGiveUp,
      running: this.s3Gateway.process,
      restart: async () => {
        await waitFor(`port ${plan.port} to be free`, async () => !(await portOpen(plan.port)), 30_000);
        return this.startGateway(log);
      },
    });
  }

  /** The Kafka broker, when there is one: restarted on the same ports and folder (topics, records, offsets kept). */
  private async superviseKafka(log: (line: string) => void, onGiveUp: (message: string) => void): Promise<void> {
    const startKafka = this.startKafka;
    if (!this.options.kafka || !this.kafkaBroker || !startKafka) return;
    this.kafkaSupervisor = await superviseRunning({
      name: 'the Kafka broker',
      logFile: this.kafkaBroker.logFile,
      log,
      onGiveUp,
      running: this.kafkaBroker.process,
      restart: async () => (await startKafka()).process,
    });
  }

  /** Stops the UI, the services (worker and frontend first) and PostgreSQL last. */
  async stop(): Promise<void> {
    fs.rmSync(clusterInfoFile(this.options.dir), { force: true });
    await this.ui?.stop();
    await (this.gatewaySupervisor?.stop() ?? this.s3Gateway?.stop());
    await (this.kafkaSupervisor?.stop(15_000) ?? this.kafkaBroker?.stop());
    for (const group of [
      ['worker', 'frontend'],
      ['history', 'matching'],
    ] as TemporalService[][]) {
      await Promise.all(group.map((s) => this.supervisors?.get(s)?.stop() ?? this.services.get(s)?.stop()));
    }
    await this.postgres.stop();
  }
}

/** Each service's ports (gRPC, membership, metrics) and the frontend's HTTP port, from the cluster's ports. */
export function servicePorts(ports: ClusterPorts): ServicesOptions['ports'] {
  return {
    frontend: { grpc: ports.frontend, membership: ports.frontendMembership, metrics: ports.frontendMetrics },
    history: { grpc: ports.history, membership: ports.historyMembership, metrics: ports.historyMetrics },
    matching: { grpc: ports.matching, membership: ports.matchingMembership, metrics: ports.matchingMetrics },
    worker: { grpc: ports.worker, membership: ports.workerMembership, metrics: ports.workerMetrics },
    frontendHttp: ports.frontendHttp,
  };
}

/**
 * Supervises a process the cluster has already started: the supervisor takes `running` over, and
 * after a crash starts it again with `restart`.
 */
function superviseRunning(
  options: Omit<SupervisorOptions, 'start'> & { running: ManagedProcess; restart: () => Promise<ManagedProcess> },
): Promise<Supervisor> {
  const { running, restart, ...rest } = options;
  let first = true;
  return Supervisor.start({
    ...rest,
    start: async () => {
      if (!first) return restart();
      first = false;
      return running;
    },
  });
}

/** The running cluster recorded in `dir`, when its owner process is alive. */
export function runningCluster(dir: string): ClusterInfo | undefined {
  let info: ClusterInfo;
  try {
    info = JSON.parse(fs.readFileSync(clusterInfoFile(dir), 'utf8')) as ClusterInfo;
  } catch {
    return undefined;
  }
  try {
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}
