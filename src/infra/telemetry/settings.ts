/**
 * Telemetry settings from the environment: where a process serves Prometheus metrics, and how it
 * logs. Read once at process start by installTelemetry (src/infra/telemetry/install.ts).
 *
 *   BATCH_METRICS_PORT  `9464` (127.0.0.1:9464), `0.0.0.0:9464` (every interface, e.g. in a
 *                       container), or unset/`0`: no metrics endpoint. A port is a per-process
 *                       choice, so it is off unless asked for; the embedded stack gives each
 *                       worker process its own port from 9464 up.
 *   BATCH_LOG_FORMAT    `json` (one object per line) or `text`; default: text on a terminal,
 *                       JSON when the output goes to a file or a log collector.
 *   BATCH_LOG_LEVEL     TRACE, DEBUG, INFO (default), WARN or ERROR.
 */
import type { LogLevel } from '@temporalio/common';

export type LogFormat = 'json' | 'text';

export interface MetricsAddress {
  host: string;
  port: number;
}

/** The embedded stack's first worker metrics port (the usual Prometheus exporter port). */
export const defaultMetricsPort = 9464;

const logLevels: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** `port` or `host:port`; undefined when unset, empty or 0 (metrics off). */
export function parseMetricsAddress(variable: string, raw: string | undefined): MetricsAddress | undefined {
  if (raw === undefined || raw.trim() === '' || raw.trim() === '0') return undefined;
  const match = /^(?:(.+):)?(\d+)$/.exec(raw.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(
      `${variable}=${raw} is not a metrics port; set a port (9464), host:port (0.0.0.0:9464) or 0 to turn metrics off.`,
    );
  }
  return { host: match[1] ?? '127.0.0.1', port };
}

export const bindAddress = (address: MetricsAddress) => `${address.host}:${address.port}`;

/** Where a person or Prometheus scrapes the endpoint (an all-interfaces bind is reachable on loopback). */
export function metricsUrl(address: MetricsAddress): string {
  const host = address.host === '0.0.0.0' || address.host === '[::]' ? '127.0.0.1' : address.host;
  return `http://${host}:${address.port}/metrics`;
}

export function logFormatFromEnv(env: NodeJS.ProcessEnv, toTerminal: boolean): LogFormat {
  const raw = env.BATCH_LOG_FORMAT?.trim().toLowerCase();
  if (!raw) return toTerminal ? 'text' : 'json';
  if (raw === 'json' || raw === 'text') return raw;
  throw new Error(`BATCH_LOG_FORMAT=${env.BATCH_LOG_FORMAT} is not a log format; set json or text, or unset it.`);
}

export function logLevelFromEnv(env: NodeJS.ProcessEnv): LogLevel {
  const raw = env.BATCH_LOG_LEVEL?.trim().toUpperCase();
  if (!raw) return 'INFO';
  if ((logLevels as readonly string[]).includes(raw)) return raw as LogLevel;
  throw new Error(`BATCH_LOG_LEVEL=${env.BATCH_LOG_LEVEL} is not a log level; set one of ${logLevels.join(', ')}.`);
}
