/**
 * The event tier as `npm start` and `npm run api` run it: the pipeline catalog and subscriptions
 * (validated first, so a bad file stops start-up with its fix), the event router with its flow
 * subscribers, the HTTP API and one inbox watcher per configured inbox. Returns the lines that
 * tell a person how to use it.
 */
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import { EventRouter } from '../client/event-router';
import { createFlowSubscribers, subscribableFlows } from '../client/flow-subscribers';
import { examplesDir, loadPipelineCatalog } from '../pipelines/catalog';
import { type InboxConfig, loadSubscriptions, subscriptionsFile } from '../pipelines/subscriptions';
import { blobStoreFor } from '../storage/blob-store';
import type { BatchConfig } from '../infra/config';
import { repoRoot } from '../infra/paths';
import { InboxWatcher } from '../sources/inbox-watcher';
import type { TopicConsumerOptions } from '../topics/kafka-consumer';
import { errorText } from '../topics/kafka-publisher';
import { startKafkaRouting, type KafkaRouting } from '../client/kafka-routing';
import { insideRoot } from '../sources/input-roots';
import { serverLimitsFromEnv, type ServerLimits } from './limits';
import { startApiServer } from './server';
import { resolveApiToken } from './token';

export interface ApiServicesOptions {
  client: Client;
  config: BatchConfig;
  dataDir: string;
  log: (line: string) => void;
  /** Defaults: pipelines/examples and pipelines/subscriptions.yaml. */
  pipelinesDir?: string;
  subscriptions?: string;
  /** How long an inbox file must stay unchanged before it is published (default 1 s). */
  inboxSettleMs?: number;
  /** Request metrics go here (the process's telemetry, src/infra/telemetry). */
  meter?: MetricMeter;
  /**
   * Whether the usage lines show the token itself. Default: only when stdout is a terminal, so
   * the token never lands in a log file; otherwise they say where to read it.
   */
  showToken?: boolean;
  /** Connection limits and timeouts (default: src/api/limits.ts, BATCH_API_MAX_CONNECTIONS). */
  limits?: ServerLimits;
  /**
   * Topics on Kafka (`--kafka`): the API and the inboxes publish there, and this process runs a
   * member of the consumer group that starts the subscribed runs. Default: the in-process router.
   */
  kafka?: ApiKafkaOptions;
}

/** Where Kafka is and how the consumer group is named (src/topics/kafka-config.ts, BATCH_KAFKA_*). */
export interface ApiKafkaOptions {
  brokers: string[];
  groupId: string;
  deadLetterTopic: string;
  /** Called after each record the consumer committed (tests, metrics). */
  onRecord?: TopicConsumerOptions['onRecord'];
}

export interface ApiServices {
  url: string;
  token: string;
  /** Where the token comes from: BATCH_API_TOKEN or the token file. */
  tokenSource: string;
  watchers: InboxWatcher[];
  /** With Kafka on: the publisher and this process's consumer group member. */
  kafka?: KafkaRouting;
  /** How to use it: address, where the token is (the token only on a terminal), a curl line, the inboxes. */
  usage: string[];
  stop(): Promise<void>;
}

/** The ledger of an inbox folder, named after its place in the data folder: inbox/uploads → ledgers/inbox-uploads.jsonl. */
export function inboxLedgerFile(dataDir: string, folder: string): string {
  const name = path.relative(dataDir, folder).replace(/[\\/]+/g, '-') || 'inbox';
  return path.join(dataDir, 'ledgers', `${name}.jsonl`);
}

/**
 * Refuses inboxes outside the input roots: their events carry the file's path, and the API and
 * the flows take paths only from under the roots, so such an inbox's files would all be refused.
 */
function checkInboxesUnderRoots(inboxes: InboxConfig[], roots: readonly string[]): void {
  const outside = inboxes.filter((inbox) => !roots.some((root) => insideRoot(root, inbox.folder)));
  if (outside.length > 0)
    throw new Error(
      `Inbox folder(s) ${outside.map((i) => i.folder).join(', ')} lie outside the input roots (${roots.join(', ')}), so their files would be refused; add them to BATCH_INPUT_ROOTS or move the inboxes under a root.`,
    );
}

/** The token on a terminal; in a log (stdout not a terminal) only where to read it. */
function tokenLine(token: string, source: string, show: boolean): string {
  if (show) return `API token: ${token} (from ${source})`;
  return source === 'BATCH_API_TOKEN'
    ? 'API token: the value of BATCH_API_TOKEN (not printed: this output is not a terminal)'
    : `API token: in ${source} (readable by its owner only; not printed: this output is not a terminal)`;
}

export async function startApiServices(options: ApiServicesOptions): Promise<ApiServices> {
  const { client, config, dataDir, log } = options;
  const catalog = loadPipelineCatalog(options.pipelinesDir ?? examplesDir);
  const subscriptions = loadSubscriptions(
    options.subscriptions ?? subscriptionsFile,
    catalog,
    dataDir,
    subscribableFlows,
  );
  checkInboxesUnderRoots(subscriptions.inboxes, config.api.inputRoots);
  // The blob store the video workers read (`<dataDir>/blobs`, or the bucket with BATCH_STORAGE=s3, as `run transcode` uses it).
  const store = blobStoreFor(dataDir);
  const flows = createFlowSubscribers({ client, config, store, baseDir: repoRoot });
  const router = new EventRouter(client, config, catalog, subscriptions, flows);
  const { token, source } = await resolveApiToken(config.api, dataDir);
  // The consumer group runs here: it needs this router (the Temporal client, the catalog, the
  // subscriptions), and every API replica becomes one more member sharing the partitions.
  const kafka = options.kafka
    ? await startKafkaRouting({
        brokers: options.kafka.brokers,
        groupId: options.kafka.groupId,
        deadLetterTopic: options.kafka.deadLetterTopic,
        consumer: { onRecord: options.kafka.onRecord },
        router,
        inputRoots: config.api.inputRoots,
        baseDir: repoRoot,
        log: (line) => log(`[kafka] ${line}`),
      }).catch((error: unknown) => {
        throw new Error(
          `Kafka at ${options.kafka!.brokers.join(',')} does not answer (${errorText(error)}); start it ` +
            '(npm start -- --kafka, npm run cluster -- --kafka) or point BATCH_KAFKA_BROKERS at a running Kafka.',
          { cause: error },
        );
      })
    : undefined;
  let api: Awaited<ReturnType<typeof startApiServer>>;
  try {
    api = await startApiServer(
      { client, config, catalog, router, token, baseDir: repoRoot, meter: options.meter, kafka },
      { host: config.api.host, port: config.api.port },
      (line) => log(`[api] ${line}`),
      options.limits ?? serverLimitsFromEnv(),
    );
  } catch (error) {
    await kafka?.stop();
    throw error;
  }
  const watchers = subscriptions.inboxes.map(
    (inbox) =>
      new InboxWatcher({
        folder: inbox.folder,
        topic: inbox.topic,
        ledgerFile: inboxLedgerFile(dataDir, inbox.folder),
        // Kafka down: the publish throws, and the watcher keeps the file and tries again with backoff.
        publish: kafka
          ? async (topic, event) => {
              const { partition, offset } = await kafka.publish(topic, event);
              return { queued: `${topic}/${partition}@${offset}` };
            }
          : (topic, event) => router.publish(topic, event),
        settleMs: options.inboxSettleMs,
        log,
      }),
  );
  try {
    for (const watcher of watchers) await watcher.start();
  } catch (error) {
    await Promise.all(watchers.map((w) => w.stop()));
    await api.close();
    await kafka?.stop();
    throw error;
  }
  const shown = (p: string) => (p.startsWith(`${repoRoot}${path.sep}`) ? path.relative(repoRoot, p) : p);
  const tokenHint = source === 'BATCH_API_TOKEN' ? '$BATCH_API_TOKEN' : `$(cat ${shown(source)})`;
  const usage = [
    `HTTP API: ${api.url} (OpenAPI: ${api.url}/openapi.json; docs/api.md)`,
    tokenLine(token, shown(source), options.showToken ?? process.stdout.isTTY === true),
    `  curl -s -H "Authorization: Bearer ${tokenHint}" ${api.url}/pipelines`,
    ...subscriptions.inboxes.map((i) => {
      const { pipelines, flows } = subscriptions.topics[i.topic];
      const starts = [...pipelines, ...flows.map((f) => `flow ${f}`)].join(', ');
      return `Inbox: files dropped into ${shown(i.folder)}/ are published to topic "${i.topic}" (${starts})`;
    }),
    ...(options.kafka
      ? [
          `Topics on Kafka at ${options.kafka.brokers.join(',')}: consumer group ${options.kafka.groupId}, ` +
            `dead letters in ${options.kafka.deadLetterTopic} (docs/kafka.md)`,
        ]
      : []),
  ];
  return {
    url: api.url,
    token,
    tokenSource: source,
    watchers,
    kafka,
    usage,
    stop: async () => {
      await Promise.all(watchers.map((w) => w.stop()));
      await api.close();
      await kafka?.stop();
    },
  };
}
