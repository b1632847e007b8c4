/**
 * Where `npm start` (and `npm run cluster -- --s3`) keep data: the local folder by default; with
 * `--s3` the project's own S3 server (the Versity gateway over `<dataDir>/s3/`, bucket `batch`,
 * 127.0.0.1:BATCH_S3_PORT); with BATCH_STORAGE=s3 in the environment, that S3 service (AWS, MinIO,
 * a gateway elsewhere) and no gateway of our own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StorageConfigError } from '../storage/object-store';
import { StorageConfig, storageConfigFromEnv } from '../storage/storage-config';
import { s3GatewayPortFromEnv } from '../infra/config';
import { dataDir } from '../infra/paths';

/** The gateway the stack starts: its folder (data under `root/<bucket>/`, credentials.json, gateway.log). */
export interface GatewayPlan {
  dir: string;
  port: number;
  bucket: string;
}

export type StackStorage =
  | { kind: 'local' }
  /** BATCH_STORAGE=s3: an S3 service someone else runs. */
  | { kind: 'external'; config: StorageConfig }
  /** `--s3`: the project's gateway, started and supervised with the stack. */
  | { kind: 'gateway'; gateway: GatewayPlan };

export const defaultGatewayBucket = 'batch';

/** The project's gateway: `<dataDir>/s3/`, port BATCH_S3_PORT (7070), bucket BATCH_S3_BUCKET (batch). */
export function gatewayPlan(env: NodeJS.ProcessEnv = process.env, dir = path.join(dataDir, 's3')): GatewayPlan {
  const bucket = env.BATCH_S3_BUCKET || defaultGatewayBucket;
  // The same rule as for BATCH_STORAGE=s3 (a bucket name the gateway can create).
  storageConfigFromEnv({ BATCH_STORAGE: 's3', BATCH_S3_BUCKET: bucket });
  return { dir, port: s3GatewayPortFromEnv(env), bucket };
}

/** What `--s3` and the environment ask for; a contradiction is a StorageConfigError saying what to change. */
export function chooseStackStorage(s3Flag: boolean, env: NodeJS.ProcessEnv = process.env): StackStorage {
  const kind = (env.BATCH_STORAGE || '').toLowerCase();
  if (kind === 's3') return { kind: 'external', config: storageConfigFromEnv(env) };
  if (s3Flag && kind === 'local') {
    throw new StorageConfigError(
      '--s3 asks for the S3 gateway but BATCH_STORAGE=local asks for the local folder; unset BATCH_STORAGE or drop --s3.',
    );
  }
  if (s3Flag) return { kind: 'gateway', gateway: gatewayPlan(env) };
  // Validates BATCH_STORAGE (a typo is refused here, not in a worker).
  storageConfigFromEnv(env);
  return { kind: 'local' };
}

/**
 * Storage settings for a gateway someone else in this data folder started (`npm run cluster --
 * --s3`): its credentials are read from its folder (mode 0600), never passed on a command line.
 */
export function runningGatewayStorage(dir: string, endpoint: string, bucket: string): StorageConfig {
  const file = path.join(dir, 'credentials.json');
  let credentials: { accessKeyId: string; secretAccessKey: string };
  try {
    credentials = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof credentials;
  } catch (error) {
    throw new StorageConfigError(
      `The S3 gateway at ${endpoint} keeps its credentials in ${file}, which cannot be read ` +
        `(${error instanceof Error ? error.message : String(error)}). Start it again, or set BATCH_STORAGE=s3 and BATCH_S3_*.`,
    );
  }
  return {
    kind: 's3',
    s3: {
      endpoint,
      bucket,
      region: 'us-east-1',
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      forcePathStyle: true,
      prefix: '',
    },
  };
}

/** For a person: where keys are, e.g. `s3://batch/` (and the gateway's folder that holds them). */
export function describeStorage(config: StorageConfig, gatewayDir?: string): string {
  if (config.kind !== 's3' || !config.s3) return `the local folder ${dataDir}`;
  const { bucket, prefix, endpoint } = config.s3;
  const where = `s3://${bucket}/${prefix ? `${prefix}/` : ''} on ${endpoint ?? 'AWS S3'}`;
  return gatewayDir ? `${where} (the project's S3 gateway; files in ${path.join(gatewayDir, 'root', bucket)}/)` : where;
}
