/**
 * The inbox's poison list: a file whose publish failed too often is moved to `<inbox>/.failed/`
 * (hidden, so the watcher never picks it up again) with `<name>.reason.json` beside it saying
 * what went wrong. To try it again, fix the cause and move the file back into the inbox.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FileFailures } from './inbox-failures';

export interface PoisonReason {
  /** Where the file was dropped. */
  file: string;
  eventId: string;
  topic: string;
  failures: number;
  attempts: number;
  firstFailedAt: string;
  lastFailedAt: string;
  /** The last error's message. */
  error: string;
  movedAt: string;
}

export const poisonFolder = (inbox: string) => path.join(inbox, '.failed');

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/**
 * Moves `file` into the poison folder (under a free name: an earlier file of the same name stays)
 * and writes its reason next to it; returns where the file went.
 */
export async function moveToPoisonList(
  inbox: string,
  file: string,
  eventId: string,
  topic: string,
  failures: FileFailures,
): Promise<string> {
  const folder = poisonFolder(inbox);
  await fs.mkdir(folder, { recursive: true });
  const name = path.basename(file);
  let target = path.join(folder, name);
  for (let n = 2; (await exists(target)) || (await exists(`${target}.reason.json`)); n += 1) {
    target = path.join(folder, `${name}.${n}`);
  }
  const reason: PoisonReason = {
    file,
    eventId,
    topic,
    failures: failures.failures,
    attempts: failures.attempts,
    firstFailedAt: failures.firstFailedAt,
    lastFailedAt: failures.lastFailedAt,
    error: failures.lastError,
    movedAt: new Date().toISOString(),
  };
  // The reason first: a crash in between leaves a reason without a file, never a silent file.
  await fs.writeFile(`${target}.reason.json`, JSON.stringify(reason, null, 2) + '\n');
  await fs.rename(file, target);
  return target;
}
