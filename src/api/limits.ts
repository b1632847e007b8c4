/**
 * How much of the API one client may hold: connections at once, body size, and how long a request
 * may take to arrive, so slow or endless clients (slowloris, bodies that never end) cannot wedge
 * it. They become fastify's options and its node server's (src/api/app.ts).
 */

/**
 * Largest request body accepted (fastify's `bodyLimit`). Temporal caps one payload at 2 MB and
 * inline items travel in the run's input, so bigger batches go as a source path, not inline.
 */
export const maxBodyBytes = 1024 * 1024;

/**
 * Longest path parameter (fastify's `maxParamLength`): above every name a route takes (run names
 * up to 64 characters, event runs `event-<ID of up to 128>`, redrives `<run>-redrive-<stage>`).
 */
export const maxParamLength = 256;

export interface ServerLimits {
  /** Connections open at once (BATCH_API_MAX_CONNECTIONS); more are closed as they arrive. */
  maxConnections: number;
  /** A request's headers must have arrived within this. */
  headersTimeoutMs: number;
  /** A whole request (headers and body) must have arrived within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Of a body refused before it was read (401, 404, 413…), at most this much is read and thrown away… */
  drainBytes: number;
  /** …for at most this long after the answer; then the connection is closed. */
  drainMs: number;
  /** Temporal calls of one request end by then (503 TemporalTimeout), so no request hangs on Temporal. */
  temporalDeadlineMs: number;
}

export const defaultServerLimits: ServerLimits = {
  maxConnections: 256,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  drainBytes: 2 * 1024 * 1024,
  drainMs: 2_000,
  temporalDeadlineMs: 10_000,
};

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number, what: string): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name}=${text} is not a whole number ≥ 1; set it to ${what} (default ${fallback}).`);
  return value;
}

/**
 * The limits, with BATCH_API_MAX_CONNECTIONS and BATCH_API_REQUEST_TIMEOUT_MS when set (the
 * headers must arrive within the same time, at most 10 s); a bad value stops start-up with its fix.
 */
export function serverLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): ServerLimits {
  const d = defaultServerLimits;
  const requestTimeoutMs = positiveInt(
    env,
    'BATCH_API_REQUEST_TIMEOUT_MS',
    d.requestTimeoutMs,
    'the milliseconds a whole request may take to arrive',
  );
  return {
    ...d,
    maxConnections: positiveInt(
      env,
      'BATCH_API_MAX_CONNECTIONS',
      d.maxConnections,
      'the connections the API may hold at once',
    ),
    requestTimeoutMs,
    headersTimeoutMs: Math.min(d.headersTimeoutMs, requestTimeoutMs),
  };
}
