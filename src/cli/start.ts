/**
 * `npm start [-- [--once] [--concurrency N] [--run NAME] [inputs...]]` (`--help`: every option): the main job on the
 * embedded default. Starts Temporal (unless TEMPORAL_ADDRESS is set) and the workers, runs the
 * video thumbnailer on the inputs (or on generated sample videos), then each hands-on flow on its
 * demo inputs (unless inputs or --no-flows are given), prints summaries, and stays up with the
 * Web UI, the HTTP API and the inbox watchers (src/api/services.ts) until Ctrl-C. With `--s3` the
 * data lives in the project's S3 gateway (started and supervised with the stack); with
 * BATCH_STORAGE=s3 in an S3 service of the environment (docs/storage.md). With `--kafka` the
 * topics are on Kafka: the project's broker (supervised, `.data/kafka`), the cluster's, or
 * BATCH_KAFKA_BROKERS; the API process runs the consumer group (docs/kafka.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { ApiServices, startApiServices } from '../api/services';
import { startThumbnailerRun } from '../client/thumbnailer';
import { followThumbnailer, thumbnailerItems } from './flows/thumbnailer';
import { BatchConfig, loadConfig, workflowUrl } from '../infra/config';
import { startStack } from '../devstack/embedded-stack';
import { useLocalCluster } from '../cluster/local';
import { dataDir, displayPath } from '../infra/paths';
import { stopAll } from '../infra/processes';
import { apiTelemetry } from '../infra/telemetry/api';
import { generateSampleVideos } from '../devstack/sample-videos';
import { demoFlows } from './flows';
import { ObjectStore } from '../storage/object-store';
import { S3ObjectStore } from '../storage/s3-store';
import { checkStorage, openStorage, useStorage } from '../storage/storage';
import { StorageConfig, storageEnv } from '../storage/storage-config';
import { chooseStackStorage, describeStorage, runningGatewayStorage } from '../devstack/stack-storage';
import { kafkaSettingsFromEnv, type KafkaSettings } from '../topics/kafka-config';
import { kafkaBrokerPlan } from '../devstack/supervised-kafka-broker';
import { kafkaSignupDemo } from './kafka-demo';
import { bucketEventsTopic } from '../client/bucket-uploads';
import { CliCommand, runNameOf, runNameOption, runProgram, wholeNumber } from './command';

interface StartOptions {
  once?: boolean;
  flows: boolean;
  cluster?: boolean;
  s3?: boolean;
  kafka?: boolean;
  concurrency: number;
  run?: string;
}

interface StartArgs extends Required<Omit<StartOptions, 'run'>> {
  runName: string;
  inputs: string[];
}

/** `npm start` as a commander program: its options, generated --help, and the action. */
export function startProgram(): CliCommand {
  return new CliCommand('npm start --')
    .description(
      'Runs the video thumbnailer on Temporal. Inputs are video files, folders of videos, or .jsonl manifests' +
        ' ({"path": "..."} per line). Without inputs, sample videos are generated first and every hands-on flow' +
        ` then runs on its demo inputs (${demoFlows.map((f) => f.name).join(', ') || 'none'}).`,
    )
    .argument('[inputs...]', 'video files, folders of videos, or .jsonl manifests')
    .option('--once', 'run the demo, print the summary and exit (default: stay up until Ctrl-C)')
    .option('--no-flows', 'run only the thumbnailer')
    .option(
      '--cluster',
      'run on the local Temporal cluster on PostgreSQL: the one `npm run cluster` runs, or one started here and ' +
        'stopped at the end (docs/cluster.md)',
    )
    .option(
      '--s3',
      "keep media, outputs and results in S3: starts the project's S3 server (Versity S3 Gateway) on " +
        '127.0.0.1:BATCH_S3_PORT (7070) over BATCH_DATA_DIR/s3/, bucket BATCH_S3_BUCKET (batch), uploads the inputs ' +
        'and runs on s3:// URIs (with --cluster: the gateway of `npm run cluster -- --s3` when it runs one). With ' +
        'BATCH_STORAGE=s3 set, that S3 service is used and no gateway starts.',
    )
    .option(
      '--kafka',
      "topics on Apache Kafka: starts the project's broker (KRaft, supervised) on 127.0.0.1:BATCH_KAFKA_PORT (9092; " +
        'controller BATCH_KAFKA_CONTROLLER_PORT 9093) over BATCH_DATA_DIR/kafka/, creates the subscribed topics and ' +
        'the dead-letter topic, and runs the consumer group in the API process; POST /topics/<t>/events and the ' +
        'inboxes publish there. With BATCH_KAFKA_BROKERS=host:port that Kafka is used and no broker starts; with ' +
        '--cluster, the broker of `npm run cluster -- --kafka` when it runs one (docs/kafka.md).',
    )
    .option('--concurrency <n>', 'thumbnailer activity calls at once per stage and partition', wholeNumber(1), 4)
    .addOption(runNameOption('demo', 'run name; workflow ID thumbnailer/<name>'))
    .addHelpText(
      'after',
      `
Environment: TEMPORAL_ADDRESS (use a cluster instead of the embedded server), TEMPORAL_NAMESPACE,
TEMPORAL_DEV_PORT (7233), TEMPORAL_UI_PORT (8233), BATCH_DATA_DIR (.data), BATCH_API_PORT (8088),
BATCH_SMTP_HOST (an SMTP server instead of the local mail catcher), BATCH_SMTP_PORT (1025),
BATCH_MAIL_UI_PORT (1080; the mail catcher's web UI), BATCH_STORAGE (local|s3) and BATCH_S3_ENDPOINT, _BUCKET,
_REGION, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY, _FORCE_PATH_STYLE, _PREFIX (an S3 service; docs/storage.md),
BATCH_S3_PORT (7070; the gateway of --s3), BATCH_KAFKA_BROKERS, BATCH_KAFKA_PORT (9092), BATCH_KAFKA_CONTROLLER_PORT (9093),
BATCH_KAFKA_GROUP (batch-router), BATCH_KAFKA_DEAD_LETTER_TOPIC (batch.dead-letters).`,
    )
    .action((inputs: string[], opts: StartOptions) =>
      main({
        once: opts.once === true,
        flows: opts.flows,
        cluster: opts.cluster === true,
        s3: opts.s3 === true,
        kafka: opts.kafka === true,
        concurrency: opts.concurrency,
        runName: runNameOf(opts, 'demo'),
        inputs,
      }),
    );
}

const log = (line: string) => console.log(`[start] ${line}`);

/** Each hands-on flow on its demo inputs, one after the other; a failing flow is reported and the rest still run. */
async function runFlowDemos(client: Client, config: BatchConfig, runName: string): Promise<void> {
  const failed: string[] = [];
  for (const flow of demoFlows) {
    log(`Flow ${flow.name}: ${flow.description}`);
    const started = Date.now();
    try {
      const lines = await flow.demo({ client, config, dataDir, log: (line) => log(`  ${line}`) }, runName);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(['', `${flow.name} (${seconds} s)`, ...lines.map((l) => `  ${l}`), ''].join('\n'));
    } catch (error) {
      failed.push(flow.name);
      console.error(`[start] Flow ${flow.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (failed.length > 0) throw new Error(`The demo of ${failed.join(', ')} failed (see above).`);
}

async function main(args: StartArgs): Promise<void> {
  // First, before anything creates the SDK Runtime: the API's request metrics.
  const telemetry = apiTelemetry();
  // Storage first: a wrong S3 setting stops here, before any server or run starts.
  let storageChoice = chooseStackStorage(args.s3);
  if (storageChoice.kind === 'external') await checkedStore(storageChoice.config);
  // --cluster: the local cluster's frontend and UI (src/cluster/local.ts) stand in for TEMPORAL_ADDRESS.
  const cluster = args.cluster ? await useLocalCluster(log) : undefined;
  if (cluster) {
    process.env.TEMPORAL_ADDRESS = cluster.frontendAddress;
    if (cluster.uiUrl) process.env.TEMPORAL_UI_URL = cluster.uiUrl;
  }
  let gatewayDir = storageChoice.kind === 'gateway' ? storageChoice.gateway.dir : undefined;
  if (storageChoice.kind === 'gateway' && cluster?.s3) {
    // `npm run cluster -- --s3` runs the gateway already: use it rather than start a second one.
    log(`Using the running cluster's S3 gateway at ${cluster.s3.endpoint} (bucket ${cluster.s3.bucket}).`);
    storageChoice = {
      kind: 'external',
      config: runningGatewayStorage(cluster.s3.dir, cluster.s3.endpoint, cluster.s3.bucket),
    };
    gatewayDir = cluster.s3.dir;
    await checkedStore(storageChoice.config);
  }
  // Kafka: the brokers named by BATCH_KAFKA_BROKERS, the cluster's, or one the stack starts.
  const kafka = args.kafka ? kafkaSettingsFromEnv() : undefined;
  let kafkaBrokers = kafka?.brokers.length ? kafka.brokers : undefined;
  if (kafkaBrokers) log(`Using Kafka at ${kafkaBrokers.join(',')} (BATCH_KAFKA_BROKERS); no broker of our own.`);
  else if (kafka && cluster?.kafka) {
    log(`Using the running cluster's Kafka broker at ${cluster.kafka.bootstrap}.`);
    kafkaBrokers = [cluster.kafka.bootstrap];
  }
  const config = loadConfig();
  const stack = await startStack(config, log, {
    s3Gateway: storageChoice.kind === 'gateway' ? storageChoice.gateway : undefined,
    storage: storageChoice.kind === 'external' ? storageChoice.config : undefined,
    kafkaBroker: kafka && !kafkaBrokers ? kafkaBrokerPlan(kafka) : undefined,
    kafkaBrokers,
  });
  if (stack.kafkaBootstrap) kafkaBrokers = [stack.kafkaBootstrap];
  // This process (the API, the flows' demos, the summaries) uses the workers' store too.
  Object.assign(process.env, storageEnv(stack.storage));
  const store = openStorage(stack.storage);
  useStorage(store);
  log(`Data (inputs, outputs, results) in ${describeStorage(stack.storage, gatewayDir)}.`);
  let services: ApiServices | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    const extras = `${stack.s3Gateway ? ', the S3 gateway' : ''}${stack.kafkaBootstrap ? ', the Kafka broker' : ''}`;
    log(`Stopping the API, workers${extras} and the Temporal server...`);
    await services?.stop();
    await stack.stop();
    await cluster?.stop();
    await stopAll();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(130));
  process.on('SIGTERM', () => void shutdown(143));
  // A process that keeps dying (src/devstack/supervisor.ts): stop everything, exit non-zero.
  void stack.gaveUp.then((message) => {
    console.error(`[start] ${message}`);
    void shutdown(1);
  });

  try {
    let inputs = args.inputs;
    if (inputs.length === 0) {
      const samples = path.join(dataDir, 'samples');
      log(`No inputs given: generating sample videos in ${displayPath(samples)}/...`);
      await generateSampleVideos(samples, log);
      // One file that is not a video shows how bad input is set aside while the run goes on.
      fs.writeFileSync(path.join(samples, 'not-a-video.mp4'), 'this is text, not a video\n');
      inputs = [samples];
    }
    // On S3 the workers read the inputs from the bucket, never from this machine's disk.
    const items = await thumbnailerItems(inputs, log);
    const client = new Client({ connection: stack.connection, namespace: config.namespace });
    services = await startApiServices({
      client,
      config,
      dataDir,
      log,
      meter: telemetry.meter,
      kafka: kafka && kafkaBrokers ? kafkaOptions(kafka, kafkaBrokers) : undefined,
    });
    for (const line of services.usage) log(line);
    if (telemetry.metricsUrl) log(`API metrics: ${telemetry.metricsUrl} (docs/observability.md)`);
    if (services.kafka) await kafkaSignupDemo(client, config, services.kafka, args.runName, log);
    const handle = await startThumbnailerRun(client, config, {
      runName: args.runName,
      items,
      concurrency: args.concurrency,
    });
    const webUi = workflowUrl(config, handle.workflowId, (await handle.describe()).runId);
    log(`Started ${handle.workflowId} with ${items.length} items. Follow it in the Web UI: ${webUi}`);
    let summary = await followThumbnailer({ client, config, dataDir, log }, handle, args.runName, webUi);
    if (store.kind === 's3') summary = summary.replace(/^Outputs:.*$/m, s3OutputLines(store, args.runName, gatewayDir));
    console.log('\n' + summary + '\n');
    if (args.flows && args.inputs.length === 0) await runFlowDemos(client, config, args.runName);
  } catch (error) {
    console.error(`[start] ${error instanceof Error ? error.message : String(error)}`);
    await shutdown(1);
    return;
  }
  if (args.once) {
    await shutdown(0);
    return;
  }
  log('Run a flow or a pipeline on this stack from another terminal, e.g.:');
  log('  npm run cli -- run transcode ~/videos/clip.mp4');
  log('  npm run cli -- run signup pipelines/items/signup-events.jsonl');
  log('  npm run cli -- run signup-notify pipelines/items/signup-users.jsonl --wait');
  log('  npm run cli -- --help   (every flow and command)');
  for (const line of services?.usage ?? []) log(line);
  if (stack.mailCatcher) log(`Mail catcher (the sign-up flow's mails): ${config.mail.uiUrl}`);
  if (kafka && kafkaBrokers) {
    log(
      `Kafka: ${kafkaBrokers.join(',')}${stack.kafkaBootstrap ? ` (data in ${displayPath(kafka.dir)}/)` : ''}; ` +
        `e.g. .tools/kafka/bin/kafka-console-consumer --bootstrap-server ${kafkaBrokers[0]} --topic signups --from-beginning`,
    );
  }
  if (stack.s3Gateway) {
    log(
      `S3 gateway: ${stack.s3Gateway.endpoint}, bucket ${stack.s3Gateway.storage.s3.bucket}; credentials in ` +
        `${displayPath(path.join(gatewayDir!, 'credentials.json'))} (docs/storage.md).`,
    );
    if (stack.s3Gateway.uploadsBucket) {
      log(
        `CatTube: a video put into bucket ${stack.s3Gateway.uploadsBucket} with any S3 client is transcoded through ` +
          `Kafka (topic ${bucketEventsTopic}), e.g. with the AWS CLI and those credentials: ` +
          `aws --endpoint-url ${stack.s3Gateway.endpoint} --region us-east-1 s3 cp clip.mp4 s3://${stack.s3Gateway.uploadsBucket}/cats/clip.mp4`,
      );
    }
  }
  log(`Temporal Web UI: ${config.webUiUrl} — the stack stays up; press Ctrl-C to stop it.`);
}

/** The API's Kafka options: the brokers found or started, the group and dead-letter topic of the settings. */
function kafkaOptions(settings: KafkaSettings, brokers: string[]) {
  return { brokers, groupId: settings.groupId, deadLetterTopic: settings.deadLetterTopic };
}

/** Opens and checks an S3 store before anything starts: a StorageConfigError names the setting to fix. */
async function checkedStore(config: StorageConfig): Promise<void> {
  const store = openStorage(config);
  try {
    await checkStorage(store);
  } finally {
    if (store instanceof S3ObjectStore) store.client.destroy();
  }
}

/** Where a thumbnailer run's outputs are in the bucket (and, for the project's gateway, on disk); the summary names the results. */
function s3OutputLines(store: ObjectStore, runName: string, gatewayDir: string | undefined): string {
  const lines = [`Outputs:       ${store.uriOf(`outputs/thumbnailer/${runName}/x`).slice(0, -1)}<item>/`];
  if (gatewayDir && store instanceof S3ObjectStore) {
    const folder = path.join(gatewayDir, 'root', store.settings.bucket, 'outputs', 'thumbnailer', runName);
    lines.push(`               (the gateway keeps them as files in ${displayPath(folder)}/)`);
  }
  return lines.join('\n');
}

if (require.main === module) runProgram(startProgram(), { prefix: '[start] ', exitWhenDone: false, cleanup: stopAll });
