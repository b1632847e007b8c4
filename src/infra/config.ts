/**
 * Configuration from the environment, read in one place so the CLI, workers, tests and
 * docker-compose.yml agree. Every variable is optional; the defaults are the embedded stack.
 */
import os from 'node:os';
import path from 'node:path';
import { dataDir, repoRoot } from './paths';
import { parseDuration } from '../core/duration';

export interface ApiConfig {
  /** Where the HTTP API listens (BATCH_API_HOST, BATCH_API_PORT); loopback by default. */
  host: string;
  port: number;
  /** BATCH_API_TOKEN; unset → a token generated once and kept in `<data>/api-token`. */
  token: string | undefined;
  /** Folders (and their subfolders) a run's source may name (BATCH_INPUT_ROOTS, `:`-separated). */
  inputRoots: string[];
}

/** Outgoing mail (the sign-up flow's SMTP). */
export interface MailConfig {
  /** BATCH_SMTP_HOST; when unset, `npm start` runs the local mail catcher (maildev) on 127.0.0.1. */
  smtpHost: string | undefined;
  smtpPort: number;
  /** BATCH_MAIL_FROM: the sender of every mail; its domain also names the Message-IDs. */
  from: string;
  /** Port of the embedded mail catcher's web UI and REST API (BATCH_MAIL_UI_PORT). */
  uiPort: number;
  /** Where a person reads the mails (BATCH_MAIL_UI_URL), for printed links. */
  uiUrl: string;
}

export interface SignupConfig {
  /** Base of the shard task queues `<queue>-shard-<k>` (BATCH_SIGNUP_QUEUE). */
  queue: string;
  /** Number of shards, i.e. failure zones (BATCH_SIGNUP_SHARDS). */
  shards: number;
  /** How long a verification code stays valid, in workflow time (BATCH_SIGNUP_EXPIRY, e.g. "3 days"). */
  verifyWithin: string;
  /** BATCH_SMS_WEBHOOK_URL: POST each SMS there; unset → a local sink, JSON lines in `<data>/sms/outbox.jsonl`. */
  smsWebhookUrl: string | undefined;
}

/**
 * How much work a worker process takes at once, sized to its cores unless set: activity slots per
 * role (tasks it runs at once) and the libvips threads of each sharp operation. Sharp runs on
 * libuv's threadpool (UV_THREADPOOL_SIZE, 4 by default), so at most that many image operations run
 * at once whatever the slots; their threads together should not exceed the cores.
 */
export interface WorkerSizing {
  /** BATCH_STAGE_SLOTS: pipeline stage activities at once (default: 8, or 2 per core from 4 cores). */
  stageSlots: number;
  /** BATCH_IMAGE_SLOTS: the image role's activities at once (default: 4, or 1 per core from 4 cores). */
  imageSlots: number;
  /** BATCH_VIDEO_SLOTS: ffmpeg activities at once; each ffmpeg uses several cores (default: 2, or 1 per 2 cores). */
  videoSlots: number;
  /** BATCH_IMAGE_THREADS: libvips threads per sharp operation (default: cores ÷ image operations at once, at least 1). */
  imageThreads: number;
}

export interface BatchConfig {
  /** host:port of a Temporal frontend; when unset, `npm start` runs the embedded dev server. */
  temporalAddress: string | undefined;
  namespace: string;
  /** Port of the embedded dev server's frontend and of its Web UI. */
  devServerPort: number;
  webUiPort: number;
  /** Base URL of the Web UI, for links printed to a person. */
  webUiUrl: string;
  /** Task queues of the thumbnailer's chain: ffmpeg work and sharp work scale apart. */
  queues: { video: string; image: string; workflow: string; stages: string };
  mail: MailConfig;
  signup: SignupConfig;
  api: ApiConfig;
  workers: WorkerSizing;
}

export const SEARCH_ATTRIBUTES = {
  pipeline: 'BatchPipeline',
  run: 'BatchRun',
  stage: 'BatchStage',
} as const;

function intFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > 65535) {
    throw new Error(`${name}=${raw} is not a valid port; set it to a number between 1 and 65535 or unset it.`);
  }
  return value;
}

function shardCountFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.BATCH_SIGNUP_SHARDS;
  if (raw === undefined || raw === '') return 3;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 64) {
    throw new Error(
      `BATCH_SIGNUP_SHARDS=${raw} is not a shard count; set it to a whole number from 1 to 64 or unset it.`,
    );
  }
  return value;
}

function durationFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!((parseDuration(raw) ?? 0) > 0)) {
    throw new Error(`${name}=${raw} is not a duration; write e.g. "3 days", "12 hours" or "90 minutes", or unset it.`);
  }
  return raw;
}

function countFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, what: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 1024) {
    throw new Error(`${name}=${raw} is not a number of ${what}; set it to a whole number from 1 to 1024 or unset it.`);
  }
  return value;
}

/** libuv's threadpool size (UV_THREADPOOL_SIZE, default 4): sharp's and fs's work runs on it. */
export function threadpoolSize(env: NodeJS.ProcessEnv = process.env): number {
  return Number(env.UV_THREADPOOL_SIZE) > 0 ? Math.floor(Number(env.UV_THREADPOOL_SIZE)) : 4;
}

/** The worker sizing from BATCH_*_SLOTS and BATCH_IMAGE_THREADS, the rest sized to `cores`. */
export function workerSizingFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  cores: number = os.availableParallelism(),
): WorkerSizing {
  // Image operations at once: bounded by libuv's threadpool, which sharp's work runs on.
  const poolSize = threadpoolSize(env);
  const stageSlots = countFromEnv(env, 'BATCH_STAGE_SLOTS', Math.max(8, 2 * cores), 'activity slots');
  return {
    stageSlots,
    imageSlots: countFromEnv(env, 'BATCH_IMAGE_SLOTS', Math.max(4, cores), 'activity slots'),
    videoSlots: countFromEnv(env, 'BATCH_VIDEO_SLOTS', Math.max(2, Math.floor(cores / 2)), 'activity slots'),
    imageThreads: countFromEnv(
      env,
      'BATCH_IMAGE_THREADS',
      Math.max(1, Math.floor(cores / Math.min(poolSize, stageSlots))),
      'libvips threads',
    ),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BatchConfig {
  const devServerPort = intFromEnv('TEMPORAL_DEV_PORT', 7233, env);
  const webUiPort = intFromEnv('TEMPORAL_UI_PORT', 8233, env);
  const mailUiPort = intFromEnv('BATCH_MAIL_UI_PORT', 1080, env);
  return {
    temporalAddress: env.TEMPORAL_ADDRESS || undefined,
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    devServerPort,
    webUiPort,
    webUiUrl: (env.TEMPORAL_UI_URL || `http://localhost:${webUiPort}`).replace(/\/$/, ''),
    queues: {
      workflow: env.BATCH_WORKFLOW_QUEUE || 'batch-workflows',
      video: env.BATCH_VIDEO_QUEUE || 'media-video',
      image: env.BATCH_IMAGE_QUEUE || 'media-image',
      stages: env.BATCH_STAGE_QUEUE || 'pipeline-stages',
    },
    mail: {
      smtpHost: env.BATCH_SMTP_HOST || undefined,
      smtpPort: intFromEnv('BATCH_SMTP_PORT', 1025, env),
      from: env.BATCH_MAIL_FROM || 'Batch sign-up <no-reply@batch.example>',
      uiPort: mailUiPort,
      uiUrl: (env.BATCH_MAIL_UI_URL || `http://localhost:${mailUiPort}`).replace(/\/$/, ''),
    },
    signup: {
      queue: env.BATCH_SIGNUP_QUEUE || 'signup',
      shards: shardCountFromEnv(env),
      verifyWithin: durationFromEnv(env, 'BATCH_SIGNUP_EXPIRY', '3 days'),
      smsWebhookUrl: env.BATCH_SMS_WEBHOOK_URL || undefined,
    },
    api: {
      host: env.BATCH_API_HOST || '127.0.0.1',
      port: intFromEnv('BATCH_API_PORT', 8088, env),
      token: env.BATCH_API_TOKEN || undefined,
      inputRoots: (env.BATCH_INPUT_ROOTS
        ? env.BATCH_INPUT_ROOTS.split(path.delimiter).filter(Boolean)
        : [path.join(dataDir, 'inputs'), path.join(dataDir, 'inbox'), path.join(repoRoot, 'pipelines', 'items')]
      ).map((root) => path.resolve(root)),
    },
    workers: workerSizingFromEnv(env),
  };
}

/** BATCH_S3_PORT: where `npm start -- --s3` and `npm run cluster -- --s3` run the S3 gateway (default 7070). */
export function s3GatewayPortFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return intFromEnv('BATCH_S3_PORT', 7070, env);
}

/** The frontend address to connect to: the configured cluster or the embedded dev server. */
export function frontendAddress(config: BatchConfig): string {
  return config.temporalAddress ?? `127.0.0.1:${config.devServerPort}`;
}

/** The SMTP host to send through: the configured one or the embedded mail catcher. */
export function smtpHost(config: BatchConfig): string {
  return config.mail.smtpHost ?? '127.0.0.1';
}

/** A link a person can open to see one workflow execution in the Web UI. */
export function workflowUrl(config: BatchConfig, workflowId: string, runId?: string): string {
  const base = `${config.webUiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}

/** A link to the Web UI's workflow list filtered by a visibility query, e.g. `BatchRun = "demo-1"`. */
export function workflowListUrl(config: BatchConfig, query: string): string {
  return `${config.webUiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows?query=${encodeURIComponent(query)}`;
}
