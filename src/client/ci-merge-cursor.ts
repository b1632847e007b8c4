/**
 * Where the git source left off in one repository: the branch tips of the last finished run.
 * Commits reachable from those tips were built (or handed to a run) already; the next run takes
 * only the commits reachable from the new tips and not from these. Kept as small JSON files
 * under `<dataDir>/ci-merge/cursors/`, written after a run finished.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeAtomically } from '../infra/atomic-write';

export interface CommitCursor {
  /** Absolute path of the repository. */
  repo: string;
  /** Commit hashes of its branch tips (and a detached HEAD) at the last finished run. */
  tips: string[];
}

function cursorPath(cursorDir: string, repo: string): string {
  const hash = createHash('sha256').update(repo).digest('hex').slice(0, 8);
  return path.join(cursorDir, `${path.basename(repo)}-${hash}.json`);
}

/** The tips seen at the last finished run, or none when the repository was never built here. */
export async function readCursor(cursorDir: string, repo: string): Promise<string[]> {
  const file = cursorPath(cursorDir, repo);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  let tips: unknown;
  try {
    tips = (JSON.parse(text) as Partial<CommitCursor>).tips;
  } catch {
    tips = undefined;
  }
  if (!Array.isArray(tips) || !tips.every((t) => typeof t === 'string')) {
    throw new Error(`The cursor file ${file} is damaged: delete it (the next run then lists every commit again).`);
  }
  return tips;
}

export async function writeCursor(cursorDir: string, cursor: CommitCursor): Promise<void> {
  await writeAtomically(cursorPath(cursorDir, cursor.repo), (tmp) =>
    fs.writeFile(tmp, JSON.stringify(cursor, null, 2) + '\n'),
  );
}
