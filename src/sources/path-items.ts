/**
 * Pipeline items from a path: a folder → one item per file in it (media travel by path: the item
 * holds the file's path, name, size and extension, never its content); a `.jsonl` file → its
 * items (src/sources/pipeline-items.ts). Used by the API's `source` and the inbox watcher.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { PipelineItem } from '../pipelines/spec';
import { DirectorySource } from './directory-source';
import { readPipelineItems } from './pipeline-items';
import { collect } from './source';

/** What a pipeline item knows about a file. */
export interface FileItemData extends Record<string, unknown> {
  path: string;
  name: string;
  bytes: number;
  /** Lower case, without the dot; '' when the name has none (splitters route on it). */
  extension: string;
}

export function fileItemData(file: string, bytes: number): FileItemData {
  return { path: file, name: path.basename(file), bytes, extension: path.extname(file).slice(1).toLowerCase() };
}

/** The items a folder or a `.jsonl` items file stands for; errors name the path and the fix. */
export async function pipelineItemsFromPath(target: string): Promise<PipelineItem[]> {
  const stat = await fs.stat(target);
  if (stat.isDirectory()) {
    const files = await collect(new DirectorySource(target));
    return Promise.all(
      files.map(async ({ id, payload }) => ({
        id,
        data: fileItemData(payload.path, (await fs.stat(payload.path)).size),
      })),
    );
  }
  if (target.endsWith('.jsonl')) return readPipelineItems(target);
  throw new Error(`${target} is neither a folder nor a .jsonl items file; pass a folder of files or a .jsonl file.`);
}
