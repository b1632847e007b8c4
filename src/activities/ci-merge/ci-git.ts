/**
 * git as the builder runs it: every call with `GIT_ALLOW_PROTOCOL=file:https:ssh`, so a remote of
 * any other transport — `ext::<command>` (runs a command), `fd::`, `git://` (unauthenticated), a
 * helper `foo::` — is refused by git itself, whatever URL reaches it (an allowlist entry, a
 * submodule, a redirect). No prompts (a missing credential fails instead of hanging a build slot),
 * the repository's hooks off, and a time limit.
 */
import { git, gitAnswers, type GitOptions } from '../../infra/git';

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

/** How the builder's git runs: its environment, the repository's hooks off, and a time limit. */
function ciGitOptions(options: CiGitOptions): GitOptions {
  return { env: ciGitEnv(), config: ['core.hooksPath=/dev/null'], timeoutMs: options.timeoutMs ?? 10 * 60_000 };
}

/** Runs `git -C <dir> -c core.hooksPath=/dev/null <args...>` and resolves with its stdout. */
export function ciGit(dir: string, args: string[], options: CiGitOptions = {}): Promise<string> {
  return git(dir, args, ciGitOptions(options));
}

/** A yes/no question git answers with its exit status, e.g. `cat-file -e <sha>^{commit}`. */
export function ciGitAnswers(dir: string, args: string[]): Promise<boolean> {
  return gitAnswers(dir, args, ciGitOptions({}));
}
