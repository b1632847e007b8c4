import { findOnPath } from './exec';

/**
 * A command prefix that makes the child receive `signal` when this process dies, even by SIGKILL
 * (when no clean-up of ours runs): `setpriv --pdeathsig`, which then execs the program, so the pid
 * we hold stays the program's. The cluster's Go services and PostgreSQL cannot watch their parent
 * themselves, as the worker processes do (src/infra/exit-with-parent.ts). Empty where setpriv
 * (util-linux) is missing: then only a clean exit stops them.
 */
export function dieWithParent(signal: 'KILL' | 'INT' | 'TERM'): string[] {
  const setpriv = process.platform === 'linux' ? findOnPath('setpriv') : undefined;
  return setpriv ? [setpriv, '--pdeathsig', signal, '--'] : [];
}

/** `program args…` behind the prefix: [program, args] for spawn. */
export function withDieWithParent(
  signal: 'KILL' | 'INT' | 'TERM',
  program: string,
  args: string[],
): [string, string[]] {
  const [first, ...rest] = [...dieWithParent(signal), program, ...args];
  return [first, rest];
}
