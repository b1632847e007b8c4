/**
 * Metrics ports of the worker processes the embedded stack starts: each its own, the first free
 * one from BATCH_METRICS_PORT (default 9464) up, so several workers (or two stacks) on one host
 * never collide. BATCH_METRICS_PORT=0 turns them off.
 */
import { portOpen } from '../wait';
import { defaultMetricsPort, MetricsAddress, metricsUrl, parseMetricsAddress, bindAddress } from './settings';

/** Ports tried above the first before giving up. */
const portsToTry = 100;

async function firstFreePort(from: MetricsAddress, skip: Set<number>): Promise<MetricsAddress> {
  const probeHost = from.host === '0.0.0.0' ? '127.0.0.1' : from.host;
  for (let port = from.port; port < from.port + portsToTry && port <= 65535; port++) {
    if (!skip.has(port) && !(await portOpen(port, probeHost))) return { host: from.host, port };
  }
  throw new Error(
    `No free metrics port in ${from.port}–${from.port + portsToTry - 1}; set BATCH_METRICS_PORT to another first port, or to 0 to turn worker metrics off.`,
  );
}

/**
 * Starts a worker process with its own metrics port and returns it with the port's URL. A port
 * another process binds between the probe and the worker's start is skipped, and the next tried.
 */
export async function withWorkerMetricsPort<T>(
  start: (metricsAddress: string | undefined) => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ started: T; metricsUrl?: string }> {
  const from = parseMetricsAddress('BATCH_METRICS_PORT', env.BATCH_METRICS_PORT ?? String(defaultMetricsPort));
  if (!from) return { started: await start(undefined) };
  const taken = new Set<number>();
  for (;;) {
    const address = await firstFreePort(from, taken);
    try {
      return { started: await start(bindAddress(address)), metricsUrl: metricsUrl(address) };
    } catch (error) {
      if (!(error instanceof Error && /Address already in use/.test(error.message))) throw error;
      taken.add(address.port);
    }
  }
}
