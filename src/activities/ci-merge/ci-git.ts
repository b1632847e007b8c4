/**
 * git as the builder runs it: every call with `GIT_ALLOW_PROTOCOL=file:https:ssh`, so a remote of
 * any other transport — `ext::<command>` (runs a command), `fd::`, `git://` (unauthenticated), a
 * helper `foo::` — is refused by git itself, whatever URL reaches it (an allowlist entry, a
 * submodule, a redirect). No prompts (a missing credential fails instead of hanging a build slot),
 * the repository's hooks off, and a time limit.
 */
import { execFile } from 'node:child_process';
import { GitError } from '../../infra/git';

/** The transports the builder's git may use. */
export const allowedGitProtocols = 'file:https:ssh';

export function ciGitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    GIT_ALLOW_PROTOCOL: allowedGitProtocols,
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    GIT_CONFIG_NOSYSTEM: '1',
  };
}

export interface CiGitOptions {
  /** Kill git after this long (a remote that never answers); default 10 minutes. */
  timeoutMs?: number;
}

/** Runs `git -C <dir> -c core.hooksPath=/dev/null <args...>` and resolves with its stdout. */
export function ciGit(dir: string, args: string[], options: CiGitOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-C', dir, '-c', 'core.hooksPath=/dev/null', ...args],
      {
        env: ciGitEnv(),
        maxBuffer: 256 * 1024 * 1024,
        timeout: options.timeoutMs ?? 10 * 60_000,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          return reject(new Error('git is not installed or not on PATH: install git (e.g. `apt-get install git`).'));
        }
        const said = stderr.trim().split('\n').slice(-5).join(' ') || error.message;
        const timedOut = error.killed ? ' (killed: it took too long)' : '';
        reject(new GitError(`git ${args.join(' ')} in ${dir} failed${timedOut}: ${said}`, stderr));
      },
    );
  });
}

/** A yes/no question git answers with its exit status, e.g. `cat-file -e <sha>^{commit}`. */
export async function ciGitAnswers(dir: string, args: string[]): Promise<boolean> {
  try {
    await ciGit(dir, args);
    return true;
  } catch (error) {
    if (error instanceof GitError) return false;
    throw error;
  }
}
