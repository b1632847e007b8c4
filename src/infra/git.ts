/**
 * Git through its command line (execFile, no shell): how the CI flow reads repositories and checks
 * commits out. Every call names its repository (`git -C <repo>`); a failing call says which
 * command failed where and what git answered.
 */
import { execFile } from 'node:child_process';

/** git ran and exited with a non-zero status (as opposed to git missing altogether). */
export class GitError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

export interface GitOptions {
  /** The environment git runs in; default this process's. */
  env?: NodeJS.ProcessEnv;
  /** Kill git (SIGKILL) after this long, e.g. a remote that never answers; default no limit. */
  timeoutMs?: number;
  /** `-c name=value` settings for this call (left out of error messages). */
  config?: string[];
}

/** Runs `git -C <repo> [-c <config>...] <args...>` and resolves with its stdout. */
export function git(repo: string, args: string[], options: GitOptions = {}): Promise<string> {
  const config = (options.config ?? []).flatMap((setting) => ['-c', setting]);
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-C', repo, ...config, ...args],
      { env: options.env, maxBuffer: 256 * 1024 * 1024, timeout: options.timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        if (error.code === 'ENOENT') {
          return reject(new Error('git is not installed or not on PATH: install git (e.g. `apt-get install git`).'));
        }
        const said = stderr.trim().split('\n').slice(-5).join(' ') || error.message;
        const timedOut = error.killed ? ' (killed: it took too long)' : '';
        reject(new GitError(`git ${args.join(' ')} in ${repo} failed${timedOut}: ${said}`, stderr));
      },
    );
  });
}

/** A yes/no question git answers with its exit status, e.g. `cat-file -e <sha>^{commit}`. */
export async function gitAnswers(repo: string, args: string[], options: GitOptions = {}): Promise<boolean> {
  try {
    await git(repo, args, options);
    return true;
  } catch (error) {
    if (error instanceof GitError) return false;
    throw error;
  }
}
