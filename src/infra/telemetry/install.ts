/**
 * Installs the Temporal SDK Runtime of this process with the project's telemetry: the SDK's
 * worker metrics and the project's own (src/core/metrics.ts) on a Prometheus endpoint, and one
 * logger for the SDK, workflow and activity logs (with their workflowId, runId, activityType…
 * attributes) and the process's own lines. Called first thing in an entry point, before any
 * Worker or NativeConnection exists:
 *
 *   const telemetry = installTelemetry({ process: 'worker', runsWorkers: true }); // src/workers/main.ts
 *   const telemetry = installTelemetry({ process: 'api', metricsPortVariable: 'BATCH_API_METRICS_PORT' });
 *   telemetry.meter.createCounter('batch_api_requests').add(1, { route: '/runs' });
 *
 * Settings come from the environment (src/infra/telemetry/settings.ts).
 */
import type { Duration, Logger, MetricMeter } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { metricNames, stageItemDurationBucketsMs } from '../../core/metrics';
import { jsonLogLine } from './json-log';
import {
  bindAddress,
  logFormatFromEnv,
  logLevelFromEnv,
  MetricsAddress,
  metricsUrl,
  parseMetricsAddress,
} from './settings';

export interface TelemetryOptions {
  /** Names this process in every JSON log line: `worker`, `api`, … */
  process: string;
  /** Worker processes let the SDK stop their Workers gracefully on SIGINT/SIGTERM; others keep their own signal handling. */
  runsWorkers?: boolean;
  /** How often Workers report to the server (their slots in use, read by the autoscaler); SDK default 60 s. */
  workerHeartbeatInterval?: Duration;
  /** The variable holding this process's metrics port (default BATCH_METRICS_PORT). */
  metricsPortVariable?: string;
  env?: NodeJS.ProcessEnv;
}

export interface Telemetry {
  /** Writes at once (unbuffered), in the process's log format: for the process's own lines. */
  logger: Logger;
  /** Creates the process's own metrics, served with the SDK's; a no-op meter when metrics are off. */
  meter: MetricMeter;
  /** Where the metrics are scraped; undefined when metrics are off. */
  metricsUrl?: string;
}

let installed: Telemetry | undefined;

function explain(error: unknown, variable: string, metrics: MetricsAddress | undefined): Error {
  const reason = error instanceof Error ? error.message : String(error);
  if (metrics && /prometheus/i.test(reason)) {
    return new Error(
      `Cannot serve Prometheus metrics on ${bindAddress(metrics)} (${variable}): ${reason.replace(/^.*?: /, '')}. ` +
        `Set ${variable} to a free port, or to 0 to turn metrics off.`,
    );
  }
  if (/already been (installed|instantiated)/i.test(reason)) {
    return new Error(
      `The Temporal SDK Runtime of this process already exists: call installTelemetry() first thing in the entry point, before any Worker or NativeConnection is created.`,
    );
  }
  return error instanceof Error ? error : new Error(reason);
}

/** Installs the Runtime once per process; later calls return the first installation. */
export function installTelemetry(options: TelemetryOptions): Telemetry {
  if (installed) return installed;
  const env = options.env ?? process.env;
  const variable = options.metricsPortVariable ?? 'BATCH_METRICS_PORT';
  const metrics = parseMetricsAddress(variable, env[variable]);
  const logFormat = logFormatFromEnv(env, Boolean(process.stdout.isTTY));
  const level = logLevelFromEnv(env);
  const logger =
    logFormat === 'json'
      ? new DefaultLogger(level, (entry) => process.stdout.write(`${jsonLogLine(entry, options.process)}\n`))
      : new DefaultLogger(level);
  let runtime: Runtime;
  try {
    runtime = Runtime.install({
      logger,
      shutdownSignals: options.runsWorkers ? undefined : [],
      workerHeartbeatInterval: options.workerHeartbeatInterval,
      telemetryOptions: {
        // In worker processes the SDK core's own warnings go through the same logger. Forwarding
        // holds the event loop open until the Runtime shuts down (as a worker's does when its
        // Workers stop), so other processes leave core's few lines on the console and can exit.
        logging: { filter: { core: 'WARN', other: 'ERROR' }, ...(options.runsWorkers ? { forward: {} } : {}) },
        ...(metrics && {
          metrics: {
            prometheus: {
              bindAddress: bindAddress(metrics),
              histogramBucketOverrides: { [metricNames.stageItemDuration]: stageItemDurationBucketsMs },
            },
          },
        }),
      },
    });
  } catch (error) {
    throw explain(error, variable, metrics);
  }
  installed = { logger, meter: runtime.metricMeter, metricsUrl: metrics && metricsUrl(metrics) };
  return installed;
}
