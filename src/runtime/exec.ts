import { execFile, spawnSync } from 'node:child_process';

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
