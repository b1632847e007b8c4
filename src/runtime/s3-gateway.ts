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
import { withDieWithParent } from '../cluster/die-with-parent';
import { S3Settings, StorageConfig } from '../storage/storage-config';
import { ManagedProcess, startProcess } from './processes';
import { ensureVersitygw } from './tools/versitygw';
import { portOpen, waitFor } from './wait';

export interface S3GatewayOptions {
  /** Holds `root/` (buckets are its folders), `credentials.json` and `gateway.log`. */
  dir: string;
  port: number;
  /** Buckets to create when missing; the first is the one workers use. */
  buckets: string[];
  log?: (line: string) => void;
}

export interface S3Gateway {
  process: ManagedProcess;
  endpoint: string;
  /** Storage settings for processes that use the gateway's first bucket. */
  storage: StorageConfig & { s3: S3Settings };
  logFile: string;
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
  const [program, args] = withDieWithParent('TERM', binary, [
    '--port',
    `127.0.0.1:${options.port}`,
    '--quiet',
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
    for (const bucket of options.buckets) {
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
