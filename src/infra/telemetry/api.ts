/**
 * Telemetry of the process that serves the HTTP API (`npm run api`, or `npm start`, which runs the
 * API in its own process): request metrics on BATCH_API_METRICS_PORT, 9463 unless set (0: off),
 * a port apart from the workers' (9464 up) so both run on one host.
 */
import { installTelemetry, Telemetry } from './install';

export const defaultApiMetricsPort = '9463';

export function apiTelemetry(env: NodeJS.ProcessEnv = process.env): Telemetry {
  return installTelemetry({
    process: 'api',
    metricsPortVariable: 'BATCH_API_METRICS_PORT',
    env: { ...env, BATCH_API_METRICS_PORT: env.BATCH_API_METRICS_PORT || defaultApiMetricsPort },
  });
}
