import fs from 'node:fs';
import path from 'node:path';
import type { WorkItem } from '../core/work-item';
import { itemIdForPath } from './item-id';
import type { FilePayload, Source } from './source';

/** A fixed list of files, e.g. the arguments of the CLI. Missing files fail early, by name. */
export class ListSource implements Source<FilePayload> {
  readonly description: string;

  constructor(private readonly paths: string[]) {
    this.description = `${paths.length} file${paths.length === 1 ? '' : 's'}`;
  }

  async *items(): AsyncIterable<WorkItem<FilePayload>> {
    for (const p of this.paths) {
      const absolute = path.resolve(p);
      if (!fs.existsSync(absolute)) throw new Error(`Input file ${absolute} does not exist; check the path.`);
      yield { id: itemIdForPath(absolute), payload: { path: absolute } };
    }
  }
}
