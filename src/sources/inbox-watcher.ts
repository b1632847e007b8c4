/**
 * An inbox: a watched folder as a source (the upload tier). A file that lands there becomes an
 * event on the inbox's topic once its size and modification time stop changing (an upload in
 * progress is left alone), so every subscribed pipeline runs on it. The folder is polled rather
 * than watched with fs.watch, which misses events on network filesystems and across restarts.
 *
 * Each file version is published once: its event ID hashes (path, size, mtime); the ledger
 * (src/sources/inbox-ledger.ts) remembers what was published across restarts, and the event
 * router's workflow IDs make a repeat after a crash start nothing. Hidden files (`.name`) are
 * skipped: upload to a hidden name and rename, or just copy and let the size settle.
 *
 * A failed publish is that file's problem only: the scan goes on with the next file, the failed
 * one is tried again with exponential backoff, and after `retry.maxFailures` failures it is moved
 * to the poison list `<inbox>/.failed/` with a `.reason.json` (src/sources/inbox-poison.ts).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { EventRun, PipelineEvent } from '../core/pipeline-event';
import { itemIdForPath } from './item-id';
import { defaultRetryPolicy, errorMessage, PublishFailures, type RetryPolicy } from './inbox-failures';
import { InboxLedger } from './inbox-ledger';
import { moveToPoisonList } from './inbox-poison';
import { fileItemData } from './path-items';

export interface InboxWatcherOptions {
  folder: string;
  topic: string;
  /** Where published files are remembered, e.g. `<data>/ledgers/inbox-uploads.jsonl`. */
  ledgerFile: string;
  /** The runs the event started (the in-process router), or where a broker queued it (Kafka; throws while it is down). */
  publish: (topic: string, event: PipelineEvent) => Promise<EventRun[] | QueuedEvent>;
  /** How long a file's size and mtime must stay the same before it counts as landed (default 1 s). */
  settleMs?: number;
  /** Time between scans of the folder (default 500 ms). */
  pollMs?: number;
  /** Backoff and poison limit for files whose publish fails (default: 5 failures, 1 s doubling up to 5 min). */
  retry?: Partial<RetryPolicy>;
  log?: (line: string) => void;
}

/** An event a broker took (Kafka): where it is, e.g. `uploads/2@17`; the broker's consumers start the runs. */
export interface QueuedEvent {
  queued: string;
}

interface Seen {
  bytes: number;
  mtimeMs: number;
  /** When this size and mtime were first seen. */
  since: number;
}

/** The event ID of one version of a file: readable name + hash of path, size and mtime. */
export const inboxEventId = (file: string, bytes: number, mtimeMs: number) =>
  itemIdForPath(file, `${bytes}:${mtimeMs}`);

export class InboxWatcher {
  private readonly ledger: InboxLedger;
  private readonly seen = new Map<string, Seen>();
  private readonly failures: PublishFailures;
  /** Poisoned file versions that could not be moved aside: skipped until they change. */
  private readonly poisoned = new Set<string>();
  private loaded: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: InboxWatcherOptions) {
    this.ledger = new InboxLedger(options.ledgerFile);
    this.failures = new PublishFailures({ ...defaultRetryPolicy, ...options.retry });
  }

  /** Creates the folder and scans it every `pollMs` until stopped. */
  async start(): Promise<void> {
    await fs.mkdir(this.options.folder, { recursive: true });
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops scanning; waits for a scan in progress (and its publishes) to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.scanning;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.scanning = this.scan()
        .catch((error: unknown) =>
          this.log(`scan failed, trying again: ${error instanceof Error ? error.message : String(error)}`),
        )
        .finally(() => this.schedule(this.options.pollMs ?? 500));
    }, ms);
  }

  private log(line: string): void {
    this.options.log?.(`[inbox ${path.basename(this.options.folder)}] ${line}`);
  }

  /** One pass over the folder: publishes every file that has settled and is not in the ledger. */
  async scan(): Promise<void> {
    await (this.loaded ??= this.ledger.load());
    const now = Date.now();
    const entries = await fs.readdir(this.options.folder, { withFileTypes: true });
    const present = new Set<string>();
    const pending = new Set<string>();
    for (const entry of entries) {
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      const file = path.join(this.options.folder, entry.name);
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat) continue; // removed between readdir and stat
      present.add(file);
      const previous = this.seen.get(file);
      if (!previous || previous.bytes !== stat.size || previous.mtimeMs !== stat.mtimeMs) {
        this.seen.set(file, { bytes: stat.size, mtimeMs: stat.mtimeMs, since: now });
        continue;
      }
      if (now - previous.since < (this.options.settleMs ?? 1000)) continue;
      const eventId = inboxEventId(file, stat.size, stat.mtimeMs);
      pending.add(eventId);
      if (this.ledger.has(eventId) || this.poisoned.has(eventId)) continue;
      if (!this.failures.due(eventId, Date.now())) continue;
      try {
        await this.publish(file, eventId, stat.size, stat.mtimeMs);
        this.failures.forget(eventId);
      } catch (error) {
        await this.publishFailed(file, eventId, error);
      }
    }
    for (const file of this.seen.keys()) if (!present.has(file)) this.seen.delete(file);
    this.failures.keepOnly(pending);
    for (const eventId of this.poisoned) if (!pending.has(eventId)) this.poisoned.delete(eventId);
  }

  /** Backoff for a file that failed, or the poison list once it failed too often; never throws. */
  private async publishFailed(file: string, eventId: string, error: unknown): Promise<void> {
    const name = path.basename(file);
    const verdict = this.failures.failed(eventId, error, Date.now());
    const failures = this.failures.get(eventId)!;
    if (verdict.kind === 'retry') {
      this.log(
        `${name}: publishing failed (${failures.failures} of ${this.retryLimit()} failures): ${errorMessage(error)}; trying again in ${Math.ceil(verdict.inMs / 1000)} s`,
      );
      return;
    }
    try {
      const target = await moveToPoisonList(this.options.folder, file, eventId, this.options.topic, failures);
      this.failures.forget(eventId);
      this.log(
        `${name}: publishing failed ${failures.failures} times, giving up: moved to ${target} (reason in ${path.basename(target)}.reason.json); last error: ${failures.lastError}. Fix the cause and move the file back to publish it again.`,
      );
    } catch (moveError) {
      this.poisoned.add(eventId);
      this.log(
        `${name}: publishing failed ${failures.failures} times, giving up (last error: ${failures.lastError}); could not move it aside (${errorMessage(moveError)}), so it is skipped until it changes.`,
      );
    }
  }

  private retryLimit(): number {
    return this.options.retry?.maxFailures ?? defaultRetryPolicy.maxFailures;
  }

  private async publish(file: string, eventId: string, bytes: number, mtimeMs: number): Promise<void> {
    const outcome = await this.options.publish(this.options.topic, { id: eventId, data: fileItemData(file, bytes) });
    const runs = Array.isArray(outcome) ? outcome : [];
    await this.ledger.record({
      eventId,
      path: file,
      bytes,
      mtimeMs,
      runs: runs.map((r) => ({ workflowId: r.workflowId, started: r.started })),
      ...(Array.isArray(outcome) ? {} : { queued: outcome.queued }),
      publishedAt: new Date().toISOString(),
    });
    const what = Array.isArray(outcome)
      ? runs.map((r) => `${r.workflowId}${r.started ? '' : ' (already started)'}`).join(', ')
      : `queued on Kafka at ${outcome.queued}`;
    this.log(`${path.basename(file)} → topic ${this.options.topic}: ${what}`);
  }
}
