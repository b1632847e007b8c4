import fs from 'node:fs';
import { DirectorySource } from './directory-source';
import { ListSource } from './list-source';
import { ManifestSource } from './manifest-source';
import type { FilePayload, Source } from './source';

export { collect } from './source';
export type { FilePayload, Source } from './source';
export { DirectorySource, ListSource, ManifestSource };

/**
 * Sources from command-line inputs: a folder → every file in it, `*.jsonl` → a manifest, any
 * other path → that file. Several inputs are read in order.
 */
export function sourcesFromInputs(inputs: string[]): Source<FilePayload>[] {
  const files: string[] = [];
  const sources: Source<FilePayload>[] = [];
  for (const input of inputs) {
    if (!fs.existsSync(input))
      throw new Error(`Input ${input} does not exist; pass video files, a folder or a .jsonl manifest.`);
    if (fs.statSync(input).isDirectory()) sources.push(new DirectorySource(input));
    else if (input.endsWith('.jsonl')) sources.push(new ManifestSource(input));
    else files.push(input);
  }
  if (files.length > 0) sources.unshift(new ListSource(files));
  return sources;
}
