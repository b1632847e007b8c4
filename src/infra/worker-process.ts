import fs from 'node:fs';
import type { BatchConfig } from './config';
import { frontendAddress, smtpHost } from './config';
import { ManagedProcess, startTsProcess } from './processes';
import { waitFor } from './wait';

export interface WorkerProcessOptions {
  name: string;
  config: BatchConfig;
  /** Prebuilt workflow bundle for the `workflows` role (see src/workers/workflow-bundle.ts). */
  workflowBundlePath?: string;
  logFile: string;
  roles?: string;
  /** `queue:count,…` shard queues to serve as well (see src/workers/shard-queues.ts). */
  shards?: string;
  /** `host:port` of its Prometheus metrics endpoint; none when absent (each process needs its own port). */
  metricsAddress?: string;
  /** More environment for the process, e.g. BATCH_DATA_DIR or a fault test's BATCH_FAULT_PAUSE. */
  env?: NodeJS.ProcessEnv;
  /** How long it may take to poll its queues before it is killed as failed (default 60 s). */
  readyTimeoutMs?: number;
}

/**
 * The variables a worker process (src/workers/main.ts, or dist/workers/main.js) reads its
 * configuration from (see src/infra/config.ts): only those, nothing inherited.
 */
export function workerEnv(
  config: BatchConfig,
  options: { workflowBundlePath?: string; metricsAddress?: string } = {},
): NodeJS.ProcessEnv {
  return {
    // Never inherited: one port given to every worker process would collide.
    BATCH_METRICS_PORT: options.metricsAddress ?? '0',
    TEMPORAL_ADDRESS: frontendAddress(config),
    TEMPORAL_NAMESPACE: config.namespace,
    BATCH_WORKFLOW_QUEUE: config.queues.workflow,
    BATCH_VIDEO_QUEUE: config.queues.video,
    BATCH_IMAGE_QUEUE: config.queues.image,
    BATCH_STAGE_QUEUE: config.queues.stages,
    BATCH_WORKFLOW_BUNDLE: options.workflowBundlePath ?? '',
    // The sign-up shards' mail and SMS: the embedded mail catcher unless a server is configured.
    BATCH_SMTP_HOST: smtpHost(config),
    BATCH_SMTP_PORT: String(config.mail.smtpPort),
    BATCH_MAIL_FROM: config.mail.from,
    BATCH_SIGNUP_QUEUE: config.signup.queue,
    BATCH_SMS_WEBHOOK_URL: config.signup.smsWebhookUrl ?? '',
  };
}

/**
 * Starts `src/workers/main.ts` as its own process and resolves once it polls its queues. One that
 * exits or does not become ready in time is killed (its whole process group) and the error carries
 * the tail of its log: nothing is left running that nobody tracks. The process stops itself when
 * this one dies (src/infra/exit-with-parent.ts).
 */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<ManagedProcess> {
  const offset = fs.existsSync(options.logFile) ? fs.statSync(options.logFile).size : 0;
  const args = ['--roles', options.roles ?? 'all', ...(options.shards ? ['--shards', options.shards] : [])];
  const worker = startTsProcess(options.name, 'src/workers/main.ts', args, {
    output: options.logFile,
    env: { ...process.env, ...workerEnv(options.config, options), ...options.env },
    exitWithParent: true,
  });
  const logSoFar = () => (fs.existsSync(options.logFile) ? fs.readFileSync(options.logFile, 'utf8').slice(offset) : '');
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  try {
    await waitFor(
      `${options.name} to start polling`,
      async () => {
        if (!worker.running) throw new Error(`${options.name} exited at start (${worker.exitDescription}).`);
        return logSoFar().includes('worker ready');
      },
      timeoutMs,
    );
  } catch (error) {
    worker.kill();
    await worker.exited;
    worker.killLeftovers();
    const reason = error instanceof Error ? error.message : String(error);
    const tail = logSoFar().slice(-2000).trimEnd() || '(empty)';
    throw new Error(
      `${reason} It was stopped (pid ${worker.child.pid}). Its log (${options.logFile}) ends with:\n${tail}`,
    );
  }
  return worker;
}
