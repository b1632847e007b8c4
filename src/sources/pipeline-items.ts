import fs from 'node:fs';
import path from 'node:path';
import type { PipelineItem } from '../pipelines/spec';
import { validateItemId } from './item-id';
import { readJsonLines } from './json-lines';

/**
 * Pipeline items from a JSON-lines file: one `{"id": "...", "data": {...}, "origin"?: "..."}`
 * per line (blank lines and `#` comments skipped). Errors name the file, line and the fix.
 */
export async function readPipelineItems(file: string): Promise<PipelineItem[]> {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) throw new Error(`Items file ${absolute} does not exist; pass a .jsonl file of items.`);
  const items: PipelineItem[] = [];
  const seen = new Set<string>();
  const example = '{"id": "u1", "data": {"optIn": true}}';
  for await (const { value, where } of readJsonLines(absolute, example)) {
    const record = value as Partial<PipelineItem>;
    if (typeof record !== 'object' || record === null || typeof record.id !== 'string') {
      throw new Error(`${where}: missing "id"; each line must be an object like ${example}.`);
    }
    if (
      record.data !== undefined &&
      (typeof record.data !== 'object' || record.data === null || Array.isArray(record.data))
    ) {
      throw new Error(`${where}: "data" must be an object.`);
    }
    const id = validateItemId(record.id, where);
    if (seen.has(id)) continue; // the same item twice in one submission is processed once
    seen.add(id);
    items.push({
      id,
      data: record.data ?? {},
      ...(typeof record.origin === 'string' ? { origin: record.origin } : {}),
    });
  }
  return items;
}
