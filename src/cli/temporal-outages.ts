/**
 * What the command line does while Temporal is away (a restarting dev server, a network blip):
 * waiting on a run is not failing it. Errors that mean "the server did not answer" are told apart
 * from real answers (not found, bad request); on those the CLI says it waits for Temporal, checks
 * every few seconds for up to 5 minutes, and goes on once the server answers again.
 */
import { status } from '@grpc/grpc-js';
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { sleep } from '../infra/wait';

/** How long a CLI wait rides out an unreachable server before it gives up. */
export const temporalOutageLimitMs = 5 * 60_000;

const transientCodes = new Set<number>([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.ABORTED,
  status.UNKNOWN,
]);

const transientText =
  /ECONNREFUSED|ECONNRESET|connection refused|No connection established|Failed to get Workflow execution history|RST_STREAM|Call ended without gRPC status|socket hang up/i;

/** True when the error says Temporal did not answer (as opposed to answering "no"). */
export function isTransientTemporalError(error: unknown): boolean {
  const cause = error instanceof ServiceError ? error.cause : error;
  if (isGrpcServiceError(cause)) {
    if (transientCodes.has(cause.code)) return true;
    if (cause.code !== status.INTERNAL) return false;
  }
  const texts = [error, cause].map((e) => (e instanceof Error ? e.message : String(e)));
  return texts.some((text) => transientText.test(text));
}

/** A short reason for people: `UNAVAILABLE: No connection established…`. */
function reasonOf(error: unknown): string {
  const cause = error instanceof ServiceError && error.cause ? error.cause : error;
  const text = cause instanceof Error ? cause.message : String(cause);
  return text.split('\n')[0].slice(0, 160);
}

export interface OutageOptions {
  log: (line: string) => void;
  /** Answers once the server is back (e.g. describing the watched workflow). */
  probe: () => Promise<unknown>;
  limitMs?: number;
  /** Between probes (default 2 s). */
  everyMs?: number;
  /** The frontend waited for (`host:port`), named in the lines for people. */
  address?: string;
  /** The workflow waited on: after the limit, how to re-attach to it. */
  workflowId?: string;
}

/**
 * Called with the transient error that ended a wait: says so, probes until the server answers
 * (resolves) or the limit passes (throws, saying what to do). Other errors are thrown as they are.
 */
export async function waitForTemporal(error: unknown, options: OutageOptions): Promise<void> {
  if (!isTransientTemporalError(error)) throw error;
  const limitMs = options.limitMs ?? temporalOutageLimitMs;
  const started = Date.now();
  const at = options.address ? ` at ${options.address}` : '';
  options.log(
    `Waiting for Temporal${at}: it does not answer (${reasonOf(error)}). Retrying for up to ${duration(limitMs)}; the run itself goes on on the server.`,
  );
  let last = error;
  while (Date.now() - started < limitMs) {
    await sleep(options.everyMs ?? 2000);
    try {
      await options.probe();
      options.log(`Temporal answers again after ${Math.round((Date.now() - started) / 1000)} s; following the run.`);
      return;
    } catch (probeError) {
      if (!isTransientTemporalError(probeError)) throw probeError;
      last = probeError;
    }
  }
  const reattach = options.workflowId
    ? `The run is kept by the server: once it is back, re-attach with npm run cli -- watch ${options.workflowId}, or follow it in the Web UI.`
    : 'The run is kept by the server: once it is back, follow the run in the Web UI.';
  throw new Error(
    `Temporal${at} did not answer for ${duration(limitMs)} (last: ${reasonOf(last)}); stopped waiting. ${reattach}`,
  );
}

function duration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const minutes = Math.round(ms / 60_000);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** `fn` until it settles with anything but a transient error; each outage is waited out. */
export async function throughOutages<T>(fn: () => Promise<T>, options: OutageOptions): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      await waitForTemporal(error, options);
    }
  }
}
