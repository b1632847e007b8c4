/**
 * What the operator's CLI allowed beyond BATCH_CI_REPOSITORIES, kept in the data folder (which only
 * the operator writes): `run ci-merge <repos> [--command CMD]` grants its repositories and
 * registers its command there before starting the run. A run's items then name the command by its
 * hash (`commandId`) and never carry it: the build worker runs only a commit's own `.batch-ci` or a
 * command found here, so item data — from the API, an event or anyone who can start a workflow —
 * cannot make it run a command of its choosing.
 *
 * `<ciDir>/operator/repositories/<sha256 of path>.json` and `<ciDir>/operator/commands/<commandId>.json`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeAtomically } from '../../infra/atomic-write';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const grantsDir = (ciDir: string, kind: 'repositories' | 'commands') => path.join(ciDir, 'operator', kind);

/** The ID of a build command: its SHA-256 (also what names its build records). */
export const commandIdOf = (command: string) => sha256(command);
export const isCommandId = (value: unknown): value is string =>
  typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function writeJson(file: string, value: Record<string, unknown>): Promise<void> {
  await writeAtomically(file, (tmp) => fs.writeFile(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 }));
}

/** Records that the operator builds `repo` (the real path of its top folder). */
export async function grantRepository(ciDir: string, repo: string): Promise<void> {
  const file = path.join(grantsDir(ciDir, 'repositories'), `${sha256(repo)}.json`);
  if ((await readJson(file))?.repo !== repo) await writeJson(file, { repo });
}

export async function isGrantedRepository(ciDir: string, repo: string): Promise<boolean> {
  return (await readJson(path.join(grantsDir(ciDir, 'repositories'), `${sha256(repo)}.json`)))?.repo === repo;
}

/** Registers the CLI's `--command` and returns the ID items carry instead of the command. */
export async function registerCommand(ciDir: string, command: string): Promise<string> {
  const id = commandIdOf(command);
  const file = path.join(grantsDir(ciDir, 'commands'), `${id}.json`);
  if ((await readJson(file))?.command !== command) await writeJson(file, { command });
  return id;
}

/** The command the operator registered under `id`, or undefined when there is none. */
export async function registeredCommand(ciDir: string, id: string): Promise<string | undefined> {
  if (!isCommandId(id)) return undefined;
  const command = (await readJson(path.join(grantsDir(ciDir, 'commands'), `${id}.json`)))?.command;
  return typeof command === 'string' && commandIdOf(command) === id ? command : undefined;
}
