/**
 * `npm run cluster [-- --s3] [--kafka]` (`--help`: every option): a Temporal cluster on this machine, the way an operator runs one: PostgreSQL,
 * the frontend, history, matching and worker services as separate processes, the Web UI server,
 * namespace and search attributes. Builds what is missing, prints every address and stays up until
 * Ctrl-C, which stops everything. State (PostgreSQL data) lives in .data/cluster/ and survives a
 * restart. See docs/cluster.md.
 */
import { Cluster, ClusterOptions, runningCluster } from '../cluster/cluster';
import { gatewayPlan } from '../devstack/stack-storage';
import { checkPortsFree, localClusterDir, localClusterOptions } from '../cluster/local';
import { displayPath } from '../infra/paths';
import { kafkaBrokerPlan } from '../devstack/supervised-kafka-broker';
import { kafkaSettingsFromEnv } from '../topics/kafka-config';
import { stopAll } from '../infra/processes';
import { CliCommand, runProgram } from './command';

/** `npm run cluster` as a commander program: its options, generated --help, and the action. */
export function clusterProgram(): CliCommand {
  return new CliCommand('npm run cluster --')
    .description(
      'Starts a local Temporal cluster (Temporal Server 1.29.1 on PostgreSQL: frontend, history, matching and worker' +
        ' as separate processes, plus the Web UI server) and stays up until Ctrl-C.',
    )
    .option(
      '--s3',
      "also run the project's S3 server (Versity S3 Gateway) on 127.0.0.1:BATCH_S3_PORT (7070), bucket " +
        'BATCH_S3_BUCKET (batch), files in BATCH_DATA_DIR/s3; npm start -- --cluster --s3 then runs on it (docs/storage.md)',
    )
    .option(
      '--kafka',
      "also run the project's Kafka broker (KRaft) on 127.0.0.1:BATCH_KAFKA_PORT (9092; controller " +
        'BATCH_KAFKA_CONTROLLER_PORT 9093), data in BATCH_DATA_DIR/kafka; npm start -- --cluster --kafka then ' +
        'publishes and consumes there (docs/kafka.md)',
    )
    .addHelpText(
      'after',
      `
State lives in ${displayPath(localClusterDir)} (BATCH_DATA_DIR/cluster) and survives a restart.
Use it with TEMPORAL_ADDRESS=127.0.0.1:7233, or run the demo on it: npm start -- --cluster.
Ports: frontend 7233, Web UI 8233, PostgreSQL 5433 and the rest beside them; BATCH_CLUSTER_PORT_OFFSET=<n>
adds n to every one. See docs/cluster.md.`,
    )
    .action((opts: { s3?: boolean; kafka?: boolean }) => main(opts.s3 === true, opts.kafka === true));
}

const log = (line: string) => console.log(`[cluster] ${line}`);

async function main(s3: boolean, kafka: boolean): Promise<void> {
  const running = runningCluster(localClusterDir);
  if (running) {
    throw new Error(
      `A local cluster already runs from ${displayPath(localClusterDir)} (pid ${running.pid}, frontend ${running.frontendAddress}` +
        `${running.uiUrl ? `, Web UI ${running.uiUrl}` : ''}). Use it, or stop it with Ctrl-C where it runs.`,
    );
  }
  const options: ClusterOptions = {
    ...localClusterOptions(),
    ...(s3 ? { s3Gateway: gatewayPlan() } : {}),
    ...(kafka ? { kafka: kafkaBrokerPlan(kafkaSettingsFromEnv()) } : {}),
  };
  await checkPortsFree(options.ports);
  const started = Date.now();
  const cluster = await Cluster.start(options, log);
  log(`Up in ${((Date.now() - started) / 1000).toFixed(1)} s. Addresses:`);
  for (const line of cluster.addresses()) console.log(`  ${line}`);
  log('Press Ctrl-C to stop everything.');

  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log(
      `Stopping the UI server, the Temporal services${s3 ? ', the S3 gateway' : ''}${kafka ? ', the Kafka broker' : ''} and PostgreSQL...`,
    );
    await cluster.stop();
    await stopAll();
    log('Stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // A service that dies is started again; one that keeps dying stops everything with its log named.
  await cluster.supervise(log, (message) => {
    console.error(`[cluster] ${message}. Stopping.`);
    void shutdown(1);
  });
  void cluster.postgres.exited.then(() => {
    if (stopping) return;
    console.error(`[cluster] PostgreSQL exited; see ${cluster.logDir}/postgres.log. Stopping.`);
    void shutdown(1);
  });
}

if (require.main === module)
  runProgram(clusterProgram(), { prefix: '[cluster] ', exitWhenDone: false, cleanup: stopAll });
