/**
 * Where a commit's build result lives: `<buildsDir>/<sha>.json` and `<sha>.log` when the commit's
 * own `.batch-ci` was run, `<sha>-cmd-<hash>.json/.log` for a `--command` override (another
 * command is another build; `<hash>` is the start of the command's ID, its SHA-256). A record is written last, after its log, so its presence means the
 * build is complete: this is what makes a commit built once across runs and retries.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BuildRecord } from '../../core/commit-build';

export interface BuildPaths {
  record: string;
  log: string;
  /** Held while the commit builds, so two runs building it at once build it once. */
  lock: string;
}

export function buildPaths(buildsDir: string, sha: string, commandId: string | undefined): BuildPaths {
  const variant = commandId === undefined ? '' : `-cmd-${commandId.slice(0, 8)}`;
  const base = path.join(buildsDir, `${sha}${variant}`);
  return { record: `${base}.json`, log: `${base}.log`, lock: `${base}.lock` };
}

/** The recorded result, or undefined when the commit has not been built (with this command) yet. */
export async function readBuildRecord(recordPath: string): Promise<BuildRecord | undefined> {
  let text: string;
  try {
    text = await fs.readFile(recordPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as BuildRecord;
}
