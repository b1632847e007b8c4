/**
 * The inbox watcher's bookkeeping of failed publishes, per file version (event ID): when to try a
 * file again (exponential backoff) and when to give up on it (the poison list). A file that keeps
 * failing never holds up the others: the watcher skips it until its next attempt is due.
 *
 * A failure because Temporal or the Kafka broker does not answer says nothing about the file (every
 * file fails alike during an outage), so it is retried with backoff but never counted towards the
 * poison limit: the file stays in the inbox until the outage is over.
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { isGrpcServiceError } from '@temporalio/client';
import { KafkaUnavailableError } from '../topics/kafka-publisher';

export interface RetryPolicy {
  /** Failures (not counting Temporal or Kafka outages) after which a file goes to the poison list. */
  maxFailures: number;
  /** Wait after the first failure; doubled after each further one, up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxFailures: 5, initialDelayMs: 1000, maxDelayMs: 5 * 60_000 };

export interface FileFailures {
  /** Every failed attempt, outages included (drives the backoff). */
  attempts: number;
  /** Failed attempts that count towards the poison limit. */
  failures: number;
  firstFailedAt: string;
  lastFailedAt: string;
  lastError: string;
  /** Epoch ms before which the file is not tried again. */
  retryAt: number;
}

export type FailureVerdict = { kind: 'retry'; inMs: number } | { kind: 'poison' };

/** True when `error` (or a cause of it) is Temporal or the Kafka broker not answering: an outage, not the file's fault. */
export function isTemporalUnavailable(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof KafkaUnavailableError) return true;
    if (isGrpcServiceError(e) && (e.code === grpcStatus.UNAVAILABLE || e.code === grpcStatus.DEADLINE_EXCEEDED)) {
      return true;
    }
  }
  return false;
}

export const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class PublishFailures {
  private readonly byEvent = new Map<string, FileFailures>();

  constructor(private readonly policy: RetryPolicy) {}

  /** Whether the file version may be tried now (never failed, or its backoff is over). */
  due(eventId: string, now: number): boolean {
    return (this.byEvent.get(eventId)?.retryAt ?? 0) <= now;
  }

  get(eventId: string): FileFailures | undefined {
    return this.byEvent.get(eventId);
  }

  /** Notes a failed attempt and says what to do with the file. */
  failed(eventId: string, error: unknown, now: number): FailureVerdict {
    const at = new Date(now).toISOString();
    const entry = this.byEvent.get(eventId) ?? {
      attempts: 0,
      failures: 0,
      firstFailedAt: at,
      lastFailedAt: at,
      lastError: '',
      retryAt: 0,
    };
    entry.attempts += 1;
    if (!isTemporalUnavailable(error)) entry.failures += 1;
    entry.lastFailedAt = at;
    entry.lastError = errorMessage(error);
    const inMs = Math.min(this.policy.maxDelayMs, this.policy.initialDelayMs * 2 ** (entry.attempts - 1));
    entry.retryAt = now + inMs;
    this.byEvent.set(eventId, entry);
    return entry.failures >= this.policy.maxFailures ? { kind: 'poison' } : { kind: 'retry', inMs };
  }

  /** Forgets a file version: published at last, moved aside, or gone from the folder. */
  forget(eventId: string): void {
    this.byEvent.delete(eventId);
  }

  /** Forgets every file version not in `current` (files replaced or removed meanwhile). */
  keepOnly(current: Set<string>): void {
    for (const eventId of this.byEvent.keys()) if (!current.has(eventId)) this.byEvent.delete(eventId);
  }
}
