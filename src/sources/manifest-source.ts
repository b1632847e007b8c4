import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { WorkItem } from '../core/work-item';
import { itemIdForPath, validateItemId } from './item-id';
import type { FilePayload, Source } from './source';

/**
 * A manifest file in JSON lines: one `{"path": "...", "id"?: "..."}` per line. Relative paths
 * are relative to the manifest's folder; blank lines and `#` comments are skipped.
 */
export class ManifestSource implements Source<FilePayload> {
  readonly description: string;

  constructor(private readonly manifestPath: string) {
    this.description = `manifest ${manifestPath}`;
  }

  async *items(): AsyncIterable<WorkItem<FilePayload>> {
    const absolute = path.resolve(this.manifestPath);
    const base = path.dirname(absolute);
    const lines = readline.createInterface({ input: fs.createReadStream(absolute), crlfDelay: Infinity });
    let lineNo = 0;
    for await (const raw of lines) {
      lineNo += 1;
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const where = `${absolute}:${lineNo}`;
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        throw new Error(`${where}: not valid JSON; each line must be an object like {"path": "videos/a.mp4"}.`);
      }
      const record = entry as { path?: unknown; id?: unknown };
      if (typeof record !== 'object' || record === null || typeof record.path !== 'string' || record.path === '') {
        throw new Error(`${where}: missing "path"; each line must be an object like {"path": "videos/a.mp4"}.`);
      }
      const file = path.resolve(base, record.path);
      const id = record.id === undefined ? itemIdForPath(file) : validateItemId(String(record.id), where);
      yield { id, payload: { path: file } };
    }
  }
}
