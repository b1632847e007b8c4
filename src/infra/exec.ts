import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Runs a program to completion and returns its output; rejects with its stderr on failure. */
export function runProgram(
  program: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      { env: options.env ?? process.env, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const tail = String(stderr || stdout)
            .trim()
            .split('\n')
            .slice(-20)
            .join('\n');
          reject(new Error(`${program} ${args.join(' ')} failed: ${error.message}\n${tail}`));
        } else {
          resolve({ stdout: String(stdout), stderr: String(stderr) });
        }
      },
    );
  });
}

/** True when `program` can be started from PATH (checked with `<program> <versionFlag>`). */
export function programExists(program: string, versionFlag = '--version'): boolean {
  const result = spawnSync(program, [versionFlag], { stdio: 'ignore' });
  return !result.error;
}

/** True when `p` is a file this process may execute. */
export function isExecutableFile(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Full path of the executable `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  const names = process.platform === 'win32' ? [`${name}.exe`, name] : [name];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const n of names) {
      const candidate = path.join(dir, n);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}
