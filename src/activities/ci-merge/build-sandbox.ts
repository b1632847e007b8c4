/**
 * What a build command runs inside: a minimal environment (no tokens, no BATCH_*, SMTP, AWS or
 * TEMPORAL settings of the worker), the build user, and how everything it starts is found and
 * killed when it ends, times out or is cancelled:
 *
 * - root and `unshare` works: its own PID namespace, whose first process is a root shell the build
 *   cannot signal; killing it makes the kernel kill every process of the namespace — also those
 *   that left the build's process group or session (`setsid`), or double-forked away.
 * - otherwise (not root, or no namespaces, e.g. in an unprivileged container): its own process
 *   group, plus every process that still carries the build's marker variable. A process that
 *   leaves the group and clears its environment can then outlive the build.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import type { BuildUser } from './build-user';
import { runsAsRoot } from './ci-settings';

export interface BuildSandbox {
  /** Run as this user (the worker is root); absent: as the worker's own user. */
  user?: BuildUser;
  /** HOME of the build: a folder the build user owns, thrown away with the worktree. */
  home: string;
  /** Contain the build in a PID namespace (needs root); false: its process group and marker. */
  pidNamespace: boolean;
}

/** The variable that marks every process of one build (inherited unless a process clears it). */
export const markerVariable = 'CI_BUILD_ID';

export const newBuildMarker = () => randomBytes(12).toString('hex');

export function buildEnvironment(sandbox: BuildSandbox, marker: string): NodeJS.ProcessEnv {
  const user = sandbox.user?.name ?? os.userInfo().username;
  return {
    PATH: process.env.PATH || '/usr/local/bin:/usr/bin:/bin',
    HOME: sandbox.home,
    LANG: process.env.LANG || 'C.UTF-8',
    USER: user,
    LOGNAME: user,
    CI: 'true',
    [markerVariable]: marker,
  };
}

/** The program and arguments that run `command` through the shell inside the sandbox. */
export function sandboxedArgv(command: string, sandbox: BuildSandbox): string[] {
  const shell = ['/bin/sh', '-c', command];
  // setpriv (util-linux): the build user, no extra groups, and setuid programs cannot elevate.
  const asUser = sandbox.user
    ? [
        'setpriv',
        `--reuid=${sandbox.user.uid}`,
        `--regid=${sandbox.user.gid}`,
        '--clear-groups',
        '--no-new-privs',
        '--',
        ...shell,
      ]
    : shell;
  if (!sandbox.pidNamespace) return asUser;
  // The namespace's first process stays a root shell waiting for the build ("; exit" keeps sh from
  // exec'ing it): the build cannot signal it nor move it out of our process group, so killing that
  // group always takes the whole namespace down.
  return [
    'unshare',
    '--pid',
    '--fork',
    '--kill-child',
    '--mount-proc',
    '--',
    '/bin/sh',
    '-c',
    '"$@"; exit $?',
    'batch-ci-init',
    ...asUser,
  ];
}

let namespaces: Promise<boolean> | undefined;

/** Whether builds can get a PID namespace here (root, and unshare allowed): asked once. */
export function pidNamespacesAvailable(): Promise<boolean> {
  if (!runsAsRoot()) return Promise.resolve(false);
  namespaces ??= promisify(execFile)('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', '--', 'true'], {
    timeout: 10_000,
  }).then(
    () => true,
    () => false,
  );
  return namespaces;
}

/** SIGKILLs every process (of those this worker may see) whose environment carries the marker. */
export async function killMarkedProcesses(marker: string): Promise<number> {
  const needle = Buffer.from(`\0${markerVariable}=${marker}\0`);
  let killed = 0;
  // Several passes: a process may fork while the previous pass kills its parent.
  for (let pass = 0; pass < 5; pass++) {
    let found = 0;
    const pids = (await fs.readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name));
    for (const pid of pids) {
      const environ = await fs.readFile(`/proc/${pid}/environ`).catch(() => undefined);
      if (!environ || !Buffer.concat([Buffer.from([0]), environ]).includes(needle)) continue;
      try {
        process.kill(Number(pid), 'SIGKILL');
        found++;
      } catch {
        // Gone already, or not ours to kill.
      }
    }
    killed += found;
    if (found === 0) break;
  }
  return killed;
}
