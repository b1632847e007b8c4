/**
 * The project's own S3 server for the demo and the tests: Versity S3 Gateway over a folder
 * (`versitygw posix <root>`), on 127.0.0.1, with credentials generated once and kept (mode 0600)
 * beside its data. Started by `npm start -- --s3`, the cluster command and the tests; any other
 * S3 service works the same through the BATCH_S3_* settings.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { withDieWithParent } from '../infra/die-with-parent';
import { S3Settings, StorageConfig } from '../storage/storage-config';
import { ensureTopics, errorText } from '../topics/kafka-publisher';
import { ManagedProcess, startProcess } from '../infra/processes';
import { ensureVersitygw } from './tools/versitygw';
import { portOpen, waitFor } from '../infra/wait';

export interface S3GatewayOptions {
  /** Holds `root/` (buckets are its folders), `credentials.json` and `gateway.log`. */
  dir: string;
  port: number;
  /** Buckets to create when missing; the first is the one workers use. */
  buckets: string[];
  log?: (line: string) => void;
  /** Bucket notifications to Kafka (CatTube: an upload starts its transcode); off when absent. */
  events?: S3EventsOptions;
}

/**
 * The gateway's Kafka event target. Only object-created notifications are sent (a filter file in
 * `dir`); the gateway sends every bucket's, so the router tells uploads from the project's own writes.
 */
export interface S3EventsOptions {
  /** `host:port` of the brokers; the gateway's client takes the first. */
  kafkaBrokers: string[];
  /** Where notifications go; created (one partition) when missing, since the gateway sends a test event at start. */
  topic: string;
  /** The bucket users upload videos into (created when missing); default `uploads`. */
  uploadsBucket?: string;
}

export const defaultUploadsBucket = 'uploads';

export interface S3Gateway {
  process: ManagedProcess;
  endpoint: string;
  /** Storage settings for processes that use the gateway's first bucket. */
  storage: StorageConfig & { s3: S3Settings };
  logFile: string;
  /** The bucket whose uploads are notified (when started with `events`). */
  uploadsBucket?: string;
  stop(): Promise<void>;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The gateway's root credentials: generated on first start, reused afterwards (data stays readable). */
function credentialsIn(dir: string): Credentials {
  const file = path.join(dir, 'credentials.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Credentials;
  } catch {
    const created = {
      accessKeyId: `batch${randomBytes(6).toString('hex')}`,
      secretAccessKey: randomBytes(24).toString('base64url'),
    };
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(created, null, 2) + '\n', { mode: 0o600 });
    return created;
  }
}

export async function startS3Gateway(options: S3GatewayOptions): Promise<S3Gateway> {
  const binary = await ensureVersitygw(options.log ?? (() => undefined));
  if (await portOpen(options.port)) {
    throw new Error(
      `Port ${options.port} is already in use, so the S3 gateway cannot start. Pick another with BATCH_S3_PORT, ` +
        'or point BATCH_S3_ENDPOINT at the S3 server already there.',
    );
  }
  const root = path.join(options.dir, 'root');
  fs.mkdirSync(root, { recursive: true });
  const credentials = credentialsIn(options.dir);
  const logFile = path.join(options.dir, 'gateway.log');
  const buckets = [...options.buckets];
  const eventArgs: string[] = [];
  if (options.events) {
    const uploadsBucket = options.events.uploadsBucket ?? defaultUploadsBucket;
    if (!buckets.includes(uploadsBucket)) buckets.push(uploadsBucket);
    eventArgs.push(...(await eventTargetArgs(options.dir, options.events)));
  }
  const [program, args] = withDieWithParent('TERM', binary, [
    '--port',
    `127.0.0.1:${options.port}`,
    '--quiet',
    ...eventArgs,
    'posix',
    root,
  ]);
  const gateway = startProcess('S3 gateway', program, args, {
    output: logFile,
    // Credentials by environment, not argv: the process list does not show them.
    env: {
      ...process.env,
      ROOT_ACCESS_KEY_ID: credentials.accessKeyId,
      ROOT_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
  });
  const endpoint = `http://127.0.0.1:${options.port}`;
  try {
    await waitFor(
      `the S3 gateway on ${endpoint} (log: ${logFile})`,
      async () => {
        if (!gateway.running) throw new Error(`The S3 gateway exited early; see ${logFile}.`);
        return portOpen(options.port);
      },
      30_000,
    );
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
    });
    for (const bucket of buckets) {
      await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: Error) => {
        if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(err.name)) throw err;
      });
    }
    client.destroy();
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  return {
    process: gateway,
    endpoint,
    logFile,
    ...(options.events ? { uploadsBucket: options.events.uploadsBucket ?? defaultUploadsBucket } : {}),
    storage: {
      kind: 's3',
      s3: {
        endpoint,
        bucket: options.buckets[0],
        region: 'us-east-1',
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        forcePathStyle: true,
        prefix: '',
      },
    },
    stop: () => gateway.stop(),
  };
}

/**
 * `--event-kafka-*` arguments and the filter file (object-created events only: `s3:ObjectCreated:*`
 * covers Put, Post, Copy and CompleteMultipartUpload). The topic must exist before the gateway
 * starts: it sends a test event then, and the broker creates no topic by itself.
 */
async function eventTargetArgs(dir: string, events: S3EventsOptions): Promise<string[]> {
  const [broker] = events.kafkaBrokers;
  if (!broker) throw new Error('S3 bucket events need a Kafka broker (events.kafkaBrokers is empty).');
  // One partition: the gateway spreads records by size, not by key, so only one keeps an object's events in order.
  await ensureTopics(events.kafkaBrokers, [{ name: events.topic, partitions: 1 }]).catch((error: unknown) => {
    throw new Error(
      `The S3 gateway's bucket events need Kafka at ${events.kafkaBrokers.join(', ')}, which did not take topic ` +
        `${events.topic} (${errorText(error)}). Start the broker before the gateway, or check BATCH_KAFKA_BROKERS.`,
      { cause: error },
    );
  });
  const filter = path.join(dir, 'event-filter.json');
  fs.writeFileSync(filter, JSON.stringify({ 's3:ObjectCreated:*': true }, null, 2) + '\n');
  return ['--event-kafka-url', broker, '--event-kafka-topic', events.topic, '--event-filter', filter];
}
