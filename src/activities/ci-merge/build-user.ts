/**
 * Whom a build runs as. A worker running as root never builds as root: it builds as an unprivileged
 * system user (BATCH_CI_BUILD_USER, default `batch-build`), created on first use with
 * `useradd --system` (no home, no login shell). A dedicated user rather than `nobody`, which other
 * daemons run as and a build could then signal or trace. If that user cannot be found or made, the
 * build is refused with a message saying what to do — never run as root.
 *
 * A worker that is not root builds as itself (it has no other user to become).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runsAsRoot } from './ci-settings';

const run = promisify(execFile);

export interface BuildUser {
  name: string;
  uid: number;
  gid: number;
}

async function lookUp(name: string): Promise<BuildUser | undefined> {
  try {
    const { stdout } = await run('getent', ['passwd', name]);
    const [, , uid, gid] = stdout.trim().split(':');
    return { name, uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

async function findOrCreate(name: string): Promise<BuildUser> {
  let user = await lookUp(name);
  let why = '';
  if (!user) {
    try {
      await run('useradd', [
        '--system',
        '--user-group',
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        name,
      ]);
    } catch (error) {
      why = ` (useradd: ${String((error as { stderr?: string }).stderr || (error as Error).message).trim()})`;
    }
    user = await lookUp(name);
  }
  if (!user) {
    throw new Error(
      `The worker runs as root and builds never do, but the build user ${name} does not exist and could not be created${why}. Create it (\`useradd --system --user-group ${name}\`), set BATCH_CI_BUILD_USER to an existing unprivileged user, or run the worker as an unprivileged user.`,
    );
  }
  if (user.uid === 0 || user.gid === 0 || !Number.isInteger(user.uid) || !Number.isInteger(user.gid)) {
    throw new Error(
      `The build user ${name} has uid ${user.uid} / gid ${user.gid}: builds must not run as root; set BATCH_CI_BUILD_USER to an unprivileged user (or unset it for batch-build).`,
    );
  }
  return user;
}

const known = new Map<string, Promise<BuildUser>>();

/** The user to build as: undefined when the worker is not root (builds run as the worker's user). */
export function buildUser(name: string): Promise<BuildUser | undefined> {
  if (!runsAsRoot()) return Promise.resolve(undefined);
  let user = known.get(name);
  if (!user) {
    user = findOrCreate(name);
    // A failure is not remembered: the operator may create the user and the retry then works.
    user.catch(() => known.delete(name));
    known.set(name, user);
  }
  return user;
}
