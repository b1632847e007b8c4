import fs from 'node:fs/promises';
import path from 'node:path';
import type { WorkItem } from '../core/work-item';
import { itemIdForPath } from './item-id';
import type { FilePayload, Source } from './source';

/**
 * Every regular file in a folder (not recursive; hidden files skipped), in name order so a run
 * over the same folder is the same batch. Optionally only some extensions.
 */
export class DirectorySource implements Source<FilePayload> {
  readonly description: string;

  constructor(
    private readonly dir: string,
    private readonly extensions?: string[],
  ) {
    this.description = `directory ${dir}`;
  }

  async *items(): AsyncIterable<WorkItem<FilePayload>> {
    const absolute = path.resolve(this.dir);
    const entries = await fs.readdir(absolute, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`Cannot read input folder ${absolute}: ${error.code ?? error.message}; check the path.`);
    });
    const wanted = this.extensions?.map((e) => e.toLowerCase());
    const names = entries
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .filter((name) => !wanted || wanted.includes(path.extname(name).toLowerCase()))
      .sort();
    for (const name of names) {
      const file = path.join(absolute, name);
      yield { id: itemIdForPath(file), payload: { path: file } };
    }
  }
}
