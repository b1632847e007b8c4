/**
 * Where a pipeline run's stage activities put files: `<dataDir>/outputs/<pipeline>/<run>/...`.
 * Derived from the run alone, so every worker (and a retry on another worker sharing the data
 * folder) writes the same paths, and a person finds them by the run's name.
 */
import path from 'node:path';
import { dataDir } from '../../runtime/paths';
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

/** The run's output folder: `<dataDir>/outputs/<pipeline>/<run>`. */
export function runOutputDir(pipeline: string, run: string): string {
  return path.join(dataDir, 'outputs', folderName(pipeline, 'pipeline name'), folderName(run, 'run name'));
}

/** The run's per-item results (JSON Lines parts): `<dataDir>/results/<pipeline>/<run>`. */
export function runResultsDir(pipeline: string, run: string): string {
  return path.join(dataDir, 'results', folderName(pipeline, 'pipeline name'), folderName(run, 'run name'));
}

/** The run's item manifest, when its items travel by reference: `<dataDir>/inputs/<pipeline>/<run>/items.jsonl`. */
export function runItemsFile(pipeline: string, run: string): string {
  return path.join(
    dataDir,
    'inputs',
    folderName(pipeline, 'pipeline name'),
    folderName(run, 'run name'),
    'items.jsonl',
  );
}

/** A file of one item under a folder of the run, e.g. `<run folder>/thumbnails/<itemId>.jpg`. */
export function runItemFile(pipeline: string, run: string, folder: string, itemId: string, ext: string): string {
  return path.join(runOutputDir(pipeline, run), folder, `${folderName(itemId, 'item id')}${ext}`);
}
