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

/** Runs `git -C <repo> <args...>` and resolves with its stdout. */
export function git(repo: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', ['-C', repo, ...args], { maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      if (error.code === 'ENOENT') {
        return reject(new Error('git is not installed or not on PATH: install git (e.g. `apt-get install git`).'));
      }
      const said = stderr.trim().split('\n').slice(-5).join(' ') || error.message;
      reject(new GitError(`git ${args.join(' ')} in ${repo} failed: ${said}`, stderr));
    });
  });
}

/** A yes/no question git answers with its exit status, e.g. `cat-file -e <sha>^{commit}`. */
export async function gitAnswers(repo: string, args: string[]): Promise<boolean> {
  try {
    await git(repo, args);
    return true;
  } catch (error) {
    if (error instanceof GitError) return false;
    throw error;
  }
}
