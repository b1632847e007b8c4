/**
 * The pipelines a service offers by name: every spec file (JSON/YAML) in a folder, by default
 * pipelines/examples. Each is validated when the catalog loads, so a bad spec stops the service
 * at start-up with its file, line and fix, never at the first request.
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../infra/paths';
import { loadPipelineSpecFile } from './load';
import type { PipelineSpec } from './spec';

export const examplesDir = path.join(repoRoot, 'pipelines', 'examples');

export interface CatalogEntry {
  name: string;
  description: string;
  /** The spec file, relative to the project folder when inside it. */
  file: string;
  spec: PipelineSpec;
}

export type PipelineCatalog = ReadonlyMap<string, CatalogEntry>;

export function loadPipelineCatalog(dir: string = examplesDir): PipelineCatalog {
  const catalog = new Map<string, CatalogEntry>();
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort();
  for (const file of files) {
    const absolute = path.join(dir, file);
    const spec = loadPipelineSpecFile(absolute);
    const relative = path.relative(repoRoot, absolute);
    const shown = relative.startsWith('..') ? absolute : relative;
    const other = catalog.get(spec.name);
    if (other) throw new Error(`${shown} and ${other.file} both define pipeline "${spec.name}"; rename one of them.`);
    catalog.set(spec.name, { name: spec.name, description: spec.description ?? '', file: shown, spec });
  }
  return catalog;
}
