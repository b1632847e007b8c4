/**
 * The CI flow's server-side settings: where builds are recorded, which repositories a run started
 * from the API or an event may name, where worktrees go and whom builds run as. They come from the
 * operator (environment and data folder), never from a run's item data.
 *
 * - BATCH_CI_REPOSITORIES: `:`-separated top folders of the git repositories that API and event
 *   runs may build (none by default). The CLI user is the operator: `run ci-merge <repos>` grants
 *   its repositories itself (src/activities/ci/operator-grants.ts).
 * - BATCH_CI_WORK_DIR: where build worktrees are made (default /var/tmp when the worker is root,
 *   so the build user can reach them; the system temp folder otherwise).
 * - BATCH_CI_BUILD_USER: the unprivileged user builds run as when the worker is root (batch-build).
 */
import os from 'node:os';
import path from 'node:path';
import { dataDir } from '../../runtime/paths';

export interface CiSettings {
  /** `<dataDir>/ci-merge`: builds/ (records and logs) and operator/ (the CLI's grants). */
  ciDir: string;
  /** Repositories API and event runs may build (real paths of their top folders). */
  repositories: string[];
  /** Parent folder of the build worktrees. */
  workDir: string;
  /** Whom builds run as when the worker is root. */
  buildUser: string;
  /**
   * How a build is contained: `auto` uses a PID namespace when it can (root, unshare works) and
   * its process group otherwise; `process-group` forces the latter (tests of the fallback).
   */
  containment: 'auto' | 'process-group';
}

export const runsAsRoot = () => process.getuid?.() === 0;

/** The repositories of BATCH_CI_REPOSITORIES, as absolute paths (not yet resolved on disk). */
export function allowedRepositoriesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.BATCH_CI_REPOSITORIES ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((p) => path.resolve(p));
}

export function ciSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, data = dataDir): CiSettings {
  return {
    ciDir: path.join(data, 'ci-merge'),
    repositories: allowedRepositoriesFromEnv(env),
    workDir: path.resolve(env.BATCH_CI_WORK_DIR || (runsAsRoot() ? '/var/tmp' : os.tmpdir())),
    buildUser: env.BATCH_CI_BUILD_USER || 'batch-build',
    containment: 'auto',
  };
}

export const buildsDirOf = (settings: Pick<CiSettings, 'ciDir'>) => path.join(settings.ciDir, 'builds');
