/**
 * The inbox watcher's ledger: one JSON line per file version it published, appended after the
 * event router answered. A restarted watcher reads it and skips those files. If the process dies
 * between publishing and appending, the file is published again on restart and the router's
 * workflow-ID dedupe (`<pipeline>/event-<id>`) starts nothing twice.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export interface LedgerEntry {
  eventId: string;
  path: string;
  bytes: number;
  mtimeMs: number;
  /** The runs of the event: started now, or found (`started: false`, e.g. after a lost ledger line). */
  runs: { workflowId: string; started: boolean }[];
  /** With Kafka on: where the event was written (`<topic>/<partition>@<offset>`); its consumer group starts the runs. */
  queued?: string;
  publishedAt: string;
}

/** The entries of a ledger file, oldest first; a line torn by a crash mid-append is left out. */
export async function readLedgerEntries(file: string): Promise<LedgerEntry[]> {
  const text = await fs.readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const entries: LedgerEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      entries.push(JSON.parse(line) as LedgerEntry);
    } catch {
      // the torn last line of a crashed append: that file is simply published again
    }
  }
  return entries;
}

export class InboxLedger {
  private readonly published = new Set<string>();

  constructor(readonly file: string) {}

  async load(): Promise<void> {
    for (const entry of await readLedgerEntries(this.file)) this.published.add(entry.eventId);
  }

  has(eventId: string): boolean {
    return this.published.has(eventId);
  }

  async record(entry: LedgerEntry): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    // A leading newline ends a torn line a crash may have left, so this entry stays readable.
    await fs.appendFile(this.file, `\n${JSON.stringify(entry)}`);
    this.published.add(entry.eventId);
  }
}
