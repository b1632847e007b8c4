/**
 * Where SMS go: a pluggable transport. `webhook` POSTs each message to an HTTP endpoint (an SMS
 * gateway or your own service); the default `sink` appends it to a local JSON-lines file, so the
 * flow runs anywhere without an SMS provider and a person can read what would have been sent.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';

export interface SmsMessage {
  /** Deterministic per (workflow, step): receivers can dedupe by it. */
  id: string;
  to: string;
  text: string;
}

export interface SmsTransport {
  readonly kind: 'sink' | 'webhook';
  /** Where messages go, for messages to a person. */
  readonly target: string;
  /** Resolves once the message was handed over; throws a retryable Error or a non-retryable failure. */
  send(message: SmsMessage): Promise<void>;
}

/** The local sink: one JSON line `{id, to, text, at}` per message appended to `file`. */
export function sinkTransport(file: string): SmsTransport {
  return {
    kind: 'sink',
    target: file,
    async send(message) {
      await fs.mkdir(path.dirname(file), { recursive: true });
      // One small write in append mode: concurrent senders never interleave within a line.
      await fs.appendFile(file, JSON.stringify({ ...message, at: new Date().toISOString() }) + '\n');
    },
  };
}

/**
 * An HTTP webhook: POST `{id, to, text}` as JSON with the header `Idempotency-Key: <id>`. A 2xx
 * answer means accepted; 4xx (other than 408 and 429) means the gateway will never take this
 * message, so it is not retried; anything else (5xx, timeouts, refused connections) is retried.
 */
export function webhookTransport(url: string, timeoutMs = 10_000): SmsTransport {
  return {
    kind: 'webhook',
    target: url,
    async send(message) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': message.id },
          body: JSON.stringify(message),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const reason =
          error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : error;
        throw new Error(`The SMS webhook ${url} did not answer (${reason}); the activity is retried.`);
      }
      if (response.ok) return;
      const body = (await response.text().catch(() => '')).slice(0, 200);
      const answer = `HTTP ${response.status}${body ? `: ${body}` : ''}`;
      if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
        throw ApplicationFailure.nonRetryable(
          `The SMS webhook ${url} refused the message to ${message.to} (${answer}). Fix the message or the webhook; retrying cannot help.`,
          'SmsRejected',
        );
      }
      throw new Error(`The SMS webhook ${url} failed (${answer}); the activity is retried.`);
    },
  };
}
