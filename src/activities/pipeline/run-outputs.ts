/**
 * Where a pipeline run's data lives, as object-store keys (src/storage): `outputs/<pipeline>/<run>/…`
 * (stage outputs), `results/<pipeline>/<run>/…` (results parts and manifest), `inputs/<pipeline>/<run>/
 * items.jsonl` (an item manifest). Derived from the run alone, so every worker — a retry on another
 * host too — writes the same keys, and a person finds them by the run's name. On the local backend a
 * key is the same path under `<dataDir>` as before (the `…Dir`/`…File` helpers below).
 */
import path from 'node:path';
import { dataDir } from '../../infra/paths';
import { joinKey } from '../../storage/object-store';
import { invalidInput } from '../errors';

/** `value` when it is usable as one folder name; otherwise bad input (never retried). */
export function folderName(value: string, what: string): string {
  if (value.length === 0 || value.length > 200 || value === '.' || value === '..' || /[/\\\0]/.test(value)) {
    throw invalidInput(
      `The ${what} ${JSON.stringify(value)} cannot be used as a folder name: use 1-200 letters, digits, "-", "_" or "." (not "." or "..", no slashes).`,
      { [what]: value },
    );
  }
  return value;
}

/** Key of the run's outputs (`outputs/<pipeline>/<run>`), or of something under it (`…/thumbnails/x.jpg`). */
export function runOutputKey(pipeline: string, run: string, ...under: string[]): string {
  return joinKey('outputs', folderName(pipeline, 'pipeline name'), folderName(run, 'run name'), ...under);
}

/** Key prefix of the run's results parts and manifest: `results/<pipeline>/<run>`. */
export function runResultsKey(pipeline: string, run: string): string {
  return joinKey('results', folderName(pipeline, 'pipeline name'), folderName(run, 'run name'));
}

/** Key of the run's item manifest, when its items travel by reference: `inputs/<pipeline>/<run>/items.jsonl`. */
export function runItemsKey(pipeline: string, run: string): string {
  return joinKey('inputs', folderName(pipeline, 'pipeline name'), folderName(run, 'run name'), 'items.jsonl');
}

/** The run's output folder on the local backend: `<dataDir>/outputs/<pipeline>/<run>`. */
export function runOutputDir(pipeline: string, run: string): string {
  return path.join(dataDir, 'outputs', folderName(pipeline, 'pipeline name'), folderName(run, 'run name'));
}

/** The run's per-item results (JSON Lines parts): `<dataDir>/results/<pipeline>/<run>`. */
export function runResultsDir(pipeline: string, run: string): string {
  return path.join(dataDir, 'results', folderName(pipeline, 'pipeline name'), folderName(run, 'run name'));
}
