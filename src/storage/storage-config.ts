/**
 * Which backend holds the data and how to reach it, from the environment (one place, so workers,
 * CLI, API and tests agree). Unset → the local folder, the embedded default.
 *
 *   BATCH_STORAGE=s3                     use an S3 bucket (default: local)
 *   BATCH_S3_ENDPOINT=http://host:port   any S3 API (AWS, Versity, MinIO, Ceph); unset → AWS
 *   BATCH_S3_BUCKET=media                the bucket (must exist)
 *   BATCH_S3_REGION=us-east-1
 *   BATCH_S3_ACCESS_KEY_ID / BATCH_S3_SECRET_ACCESS_KEY   (else the AWS SDK's own chain: AWS_* env, profiles, roles)
 *   BATCH_S3_FORCE_PATH_STYLE=true|false  (default true with an endpoint: most self-hosted servers need it)
 *   BATCH_S3_PREFIX=team-a               an optional key prefix inside the bucket
 */
import { StorageConfigError, StorageKind } from './object-store';

export interface S3Settings {
  endpoint: string | undefined;
  bucket: string;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
  prefix: string;
}

export interface StorageConfig {
  kind: StorageKind;
  s3?: S3Settings;
}

const bucketPattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function storageConfigFromEnv(env: NodeJS.ProcessEnv = process.env): StorageConfig {
  const kind = (env.BATCH_STORAGE || 'local').toLowerCase();
  if (kind === 'local') return { kind: 'local' };
  if (kind !== 's3') {
    throw new StorageConfigError(`BATCH_STORAGE=${env.BATCH_STORAGE} is not a backend; set it to "local" or "s3".`);
  }
  const bucket = env.BATCH_S3_BUCKET ?? '';
  if (!bucketPattern.test(bucket)) {
    throw new StorageConfigError(
      bucket === ''
        ? 'BATCH_STORAGE=s3 needs BATCH_S3_BUCKET: the name of an existing bucket.'
        : `BATCH_S3_BUCKET=${bucket} is not a bucket name: 3-63 lower-case letters, digits, "." and "-".`,
    );
  }
  const endpoint = env.BATCH_S3_ENDPOINT || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint)) {
    throw new StorageConfigError(
      `BATCH_S3_ENDPOINT=${endpoint} is not an endpoint; write http(s)://host:port, e.g. http://127.0.0.1:7070.`,
    );
  }
  const accessKeyId = env.BATCH_S3_ACCESS_KEY_ID || undefined;
  const secretAccessKey = env.BATCH_S3_SECRET_ACCESS_KEY || undefined;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new StorageConfigError('Set both BATCH_S3_ACCESS_KEY_ID and BATCH_S3_SECRET_ACCESS_KEY, or neither.');
  }
  const pathStyle = env.BATCH_S3_FORCE_PATH_STYLE;
  const prefix = (env.BATCH_S3_PREFIX ?? '').replace(/^\/+|\/+$/g, '');
  return {
    kind: 's3',
    s3: {
      endpoint: endpoint?.replace(/\/$/, ''),
      bucket,
      region: env.BATCH_S3_REGION || 'us-east-1',
      accessKeyId,
      secretAccessKey,
      forcePathStyle: pathStyle === undefined || pathStyle === '' ? endpoint !== undefined : pathStyle === 'true',
      prefix,
    },
  };
}

/** The environment that makes a child process (a worker) use these settings. */
export function storageEnv(config: StorageConfig): Record<string, string> {
  if (config.kind === 'local' || !config.s3) return { BATCH_STORAGE: 'local' };
  const s3 = config.s3;
  return {
    BATCH_STORAGE: 's3',
    BATCH_S3_BUCKET: s3.bucket,
    BATCH_S3_REGION: s3.region,
    BATCH_S3_FORCE_PATH_STYLE: String(s3.forcePathStyle),
    ...(s3.endpoint ? { BATCH_S3_ENDPOINT: s3.endpoint } : {}),
    ...(s3.accessKeyId ? { BATCH_S3_ACCESS_KEY_ID: s3.accessKeyId } : {}),
    ...(s3.secretAccessKey ? { BATCH_S3_SECRET_ACCESS_KEY: s3.secretAccessKey } : {}),
    ...(s3.prefix ? { BATCH_S3_PREFIX: s3.prefix } : {}),
  };
}
