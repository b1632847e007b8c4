/**
 * Configuration from the environment, read in one place so the CLI, workers, tests and
 * docker-compose.yml agree. Every variable is optional; the defaults are the embedded stack.
 */
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
}

export const SEARCH_ATTRIBUTES = {
  pipeline: 'BatchPipeline',
  run: 'BatchRun',
  stage: 'BatchStage',
} as const;

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > 65535) {
    throw new Error(`${name}=${raw} is not a valid port; set it to a number between 1 and 65535 or unset it.`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BatchConfig {
  const devServerPort = intFromEnv('TEMPORAL_DEV_PORT', 7233);
  const webUiPort = intFromEnv('TEMPORAL_UI_PORT', 8233);
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
  };
}

/** The frontend address to connect to: the configured cluster or the embedded dev server. */
export function frontendAddress(config: BatchConfig): string {
  return config.temporalAddress ?? `127.0.0.1:${config.devServerPort}`;
}

/** A link a person can open to see one workflow execution in the Web UI. */
export function workflowUrl(config: BatchConfig, workflowId: string, runId?: string): string {
  const base = `${config.webUiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
