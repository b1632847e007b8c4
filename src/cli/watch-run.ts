/**
 * Follows a run for a person: its progress (a `progress` query) formatted and shown about every
 * `everyMs` whenever the line changes, until the run ends; then its result. While Temporal does not
 * answer (a restarting server), it says it waits and goes on once the server is back, for up to
 * 5 minutes (src/cli/temporal-outages.ts): the run goes on on the server either way.
 */
import type { QueryDefinition } from '@temporalio/common';
import { pipelineProgressQuery, type PipelineRunResult } from '../workflows/pipeline';
import { formatPipelineProgress } from './pipeline-progress';
import { isTransientTemporalError, temporalOutageLimitMs, throughOutages } from './temporal-outages';

export interface WatchedRun<R> {
  query<P>(def: QueryDefinition<P, []>): Promise<P>;
  result(): Promise<R>;
  /** Asked while waiting for Temporal: answers once the server is back. */
  describe(): Promise<unknown>;
  /** Named when waiting for Temporal: where to re-attach. */
  readonly workflowId?: string;
  /** Its client's connection: the address waited for, when it says. */
  readonly client?: { readonly connection: unknown };
}

export interface WatchOptions {
  everyMs?: number;
  /** Shows a progress line (default: `log`), e.g. rewriting one terminal line. */
  show?: (line: string) => void;
  /** How long an unreachable server is waited for (default 5 minutes). */
  outageLimitMs?: number;
}

export async function watchRun<R, P>(
  handle: WatchedRun<R>,
  progressQuery: QueryDefinition<P, []>,
  format: (progress: P) => string,
  log: (line: string) => void,
  options: number | WatchOptions = {},
): Promise<R> {
  const {
    everyMs = 1000,
    show = log,
    outageLimitMs = temporalOutageLimitMs,
  } = typeof options === 'number' ? { everyMs: options } : options;
  let shown = '';
  let running = true;
  let away = false;
  let asking = false;
  const ticker = setInterval(() => {
    // One question at a time: while the server is away, queries would pile up.
    if (away || asking) return;
    asking = true;
    handle
      .query(progressQuery)
      .then(
        (progress) => {
          const line = format(progress);
          // An answer that arrives after the result would print below the caller's summary.
          if (running && !away && line !== shown) show((shown = line));
        },
        () => undefined, // not answering yet (starting) or any more (done): the result says the rest
      )
      // A progress line that cannot be formatted is skipped; it never ends the wait.
      .catch(() => undefined)
      .finally(() => (asking = false));
  }, everyMs);
  try {
    return await throughOutages(
      async () => {
        away = false;
        try {
          return await handle.result();
        } catch (error) {
          away = isTransientTemporalError(error);
          throw error;
        }
      },
      {
        log,
        probe: () => handle.describe(),
        limitMs: outageLimitMs,
        address: frontendAddressOf(handle),
        workflowId: handle.workflowId,
      },
    );
  } finally {
    running = false;
    clearInterval(ticker);
  }
}

/** The `host:port` a handle's client talks to, when its connection says (a Connection does). */
function frontendAddressOf(handle: WatchedRun<unknown>): string | undefined {
  const connection = handle.client?.connection as { options?: { address?: unknown } } | undefined;
  return typeof connection?.options?.address === 'string' ? connection.options.address : undefined;
}

/** A pipeline run's progress line (src/cli/progress.ts) until it ends, then its result. */
export function watchPipelineRun(
  handle: WatchedRun<PipelineRunResult>,
  log: (line: string) => void,
  options?: WatchOptions,
): Promise<PipelineRunResult> {
  return watchRun(handle, pipelineProgressQuery, formatPipelineProgress, log, options);
}
