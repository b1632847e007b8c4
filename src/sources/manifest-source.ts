import path from 'node:path';
import type { WorkItem } from '../core/work-item';
import { itemIdForPath, validateItemId } from './item-id';
import { readJsonLines } from './json-lines';
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
    const example = '{"path": "videos/a.mp4"}';
    for await (const { value, where } of readJsonLines(absolute, example)) {
      const record = value as { path?: unknown; id?: unknown };
      if (typeof record !== 'object' || record === null || typeof record.path !== 'string' || record.path === '') {
        throw new Error(`${where}: missing "path"; each line must be an object like ${example}.`);
      }
      const file = path.resolve(base, record.path);
      const id = record.id === undefined ? itemIdForPath(file) : validateItemId(String(record.id), where);
      yield { id, payload: { path: file } };
    }
  }
}
