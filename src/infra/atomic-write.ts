import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Produces a file at `finalPath` so that `finalPath` only ever holds a complete file: `produce` writes to a temporary
 * file in the same folder (same filesystem, so the rename is atomic), which is flushed and renamed over `finalPath`.
 * On failure the temporary file is removed and the error rethrown; `finalPath` is left untouched.
 *
 * The temporary name is `<dir>/.<base>.<pid>.<random>.tmp<ext>`: hidden, unique per attempt, and with the real
 * extension last so tools that infer the format from the name (ffmpeg, sharp) still do.
 */
export async function writeAtomically(finalPath: string, produce: (tmpPath: string) => Promise<void>): Promise<void> {
  const target = path.resolve(finalPath);
  const dir = path.dirname(target);
  const ext = path.extname(target);
  const base = path.basename(target, ext);
  const tmpPath = path.join(dir, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp${ext}`);
  await fs.mkdir(dir, { recursive: true });
  await removeStaleTemporaries(dir, base, ext);
  try {
    await produce(tmpPath);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(tmpPath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(`writeAtomically: the producer finished without creating ${tmpPath} (for ${target})`);
      }
      throw err;
    }
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmpPath, target);
  } catch (err) {
    await fs.rm(tmpPath, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** True while process `pid` exists (also when it belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A worker killed mid-write (SIGKILL, power loss) leaves its temporary behind; the retry that
 * writes the same target removes those whose writer process is gone, so no partial files pile up.
 */
async function removeStaleTemporaries(dir: string, base: string, ext: string): Promise<void> {
  const prefix = `.${base}.`;
  const suffix = `.tmp${ext}`;
  for (const name of await fs.readdir(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) continue;
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) {
      await fs.rm(path.join(dir, name), { force: true });
    }
  }
}

/** True when `p` exists and is a regular file (false when it or a parent folder is missing). */
export async function fileExists(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw err;
  }
}
