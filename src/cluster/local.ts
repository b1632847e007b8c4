import path from 'node:path';
import { dataDir } from '../infra/paths';
import { portOpen } from '../infra/wait';
import {
  Cluster,
  ClusterInfo,
  ClusterOptions,
  ClusterPorts,
  ClusterKafkaInfo,
  ClusterS3Info,
  defaultClusterPorts,
  runningCluster,
} from './cluster';

/** The local cluster's folder: PostgreSQL data, logs and cluster.json (git-ignored, under BATCH_DATA_DIR). */
export const localClusterDir = path.join(dataDir, 'cluster');

/**
 * The local cluster's ports: the defaults, each moved by BATCH_CLUSTER_PORT_OFFSET when set (a
 * second cluster beside the first, or beside a dev server on 7233/8233).
 */
export function localClusterPorts(env: NodeJS.ProcessEnv = process.env): ClusterPorts {
  const raw = env.BATCH_CLUSTER_PORT_OFFSET;
  if (!raw) return defaultClusterPorts;
  const offset = Number(raw);
  // Every port stays below 32768: membership ports are stored as smallint, and the kernel hands
  // out ports from 32768 up to outgoing connections.
  if (!Number.isInteger(offset) || offset < 0 || offset > 23_000) {
    throw new Error(
      `BATCH_CLUSTER_PORT_OFFSET=${raw} is not a whole number from 0 to 23000 (added to every cluster port).`,
    );
  }
  return Object.fromEntries(
    Object.entries(defaultClusterPorts).map(([name, port]) => [name, port + offset]),
  ) as unknown as ClusterPorts;
}

/** The options `npm run cluster` and `npm start -- --cluster` use. */
export function localClusterOptions(ports: ClusterPorts = localClusterPorts()): ClusterOptions {
  return {
    dir: localClusterDir,
    ports,
    namespace: process.env.TEMPORAL_NAMESPACE || 'default',
    numHistoryShards: 4,
    retentionDays: 3,
  };
}

/** Refuses to start on a port something else holds, naming it and the way out. */
export async function checkPortsFree(ports: ClusterPorts): Promise<void> {
  for (const [name, port] of Object.entries(ports)) {
    if (await portOpen(port)) {
      throw new Error(
        `Port ${port} (${name}) is already in use, so the local Temporal cluster cannot start.\n` +
          'Stop what listens there (an `npm start` dev server uses 7233 and 8233), move every cluster port with ' +
          'BATCH_CLUSTER_PORT_OFFSET=<n>, or, if it is a Temporal cluster, ' +
          `use it: TEMPORAL_ADDRESS=127.0.0.1:${ports.frontend} npm start.`,
      );
    }
  }
}

export interface UsedCluster {
  frontendAddress: string;
  uiUrl?: string;
  /** The running cluster's S3 gateway (`npm run cluster -- --s3`), when it has one. */
  s3?: ClusterS3Info;
  /** The running cluster's Kafka broker (`npm run cluster -- --kafka`), when it has one. */
  kafka?: ClusterKafkaInfo;
  /** Stops the cluster when this process started it; leaves a running one alone. */
  stop(): Promise<void>;
}

/**
 * `npm start -- --cluster`: the cluster `npm run cluster` runs (found by its cluster.json), or a
 * new one started here and stopped at the end.
 */
export async function useLocalCluster(log: (line: string) => void): Promise<UsedCluster> {
  if (process.env.TEMPORAL_ADDRESS) {
    throw new Error(
      `--cluster runs on the local cluster, but TEMPORAL_ADDRESS=${process.env.TEMPORAL_ADDRESS} names another one.\n` +
        'Use one or the other: unset TEMPORAL_ADDRESS for the local cluster, or drop --cluster for that cluster.',
    );
  }
  const running: ClusterInfo | undefined = runningCluster(localClusterDir);
  if (running) {
    log(`Using the running local cluster at ${running.frontendAddress} (started by pid ${running.pid}).`);
    return {
      frontendAddress: running.frontendAddress,
      uiUrl: running.uiUrl,
      s3: running.s3,
      kafka: running.kafka,
      stop: async () => undefined,
    };
  }
  const options = localClusterOptions();
  await checkPortsFree(options.ports);
  const started = Date.now();
  const cluster = await Cluster.start(options, log);
  log(`Local Temporal cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s:`);
  for (const line of cluster.addresses()) log(`  ${line}`);
  return { frontendAddress: cluster.frontendAddress, uiUrl: cluster.uiUrl, stop: () => cluster.stop() };
}
