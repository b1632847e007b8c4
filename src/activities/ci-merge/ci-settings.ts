/**
 * The CI flow's server-side settings: where builds are recorded, which repositories a run started
 * from the API or an event may name, where worktrees go and whom builds run as. They come from the
 * operator (environment and data folder), never from a run's item data.
 *
 * - BATCH_CI_REPOSITORIES: the git repositories that API and event runs may build (none by
 *   default): top folders on the builder's host (`:`-separated, as before) and remote URLs
 *   (`file://`, `https://`, `ssh://`; separate them with `,` or new lines), which every builder
 *   host fetches into its own clone cache (src/activities/ci-merge/clone-cache.ts). The CLI user is the
 *   operator: `run ci-merge <repos>` grants its repositories itself (src/activities/ci-merge/operator-grants.ts).
 * - BATCH_CI_WORK_DIR: where build worktrees are made (default /var/tmp when the worker is root,
 *   so the build user can reach them; the system temp folder otherwise).
 * - BATCH_CI_BUILD_USER: the unprivileged user builds run as when the worker is root (batch-build).
 */
import os from 'node:os';
import path from 'node:path';
import { dataDir } from '../../infra/paths';
import type { ObjectStore } from '../../storage/object-store';

export interface CiSettings {
  /**
   * `<dataDir>/ci-merge` on this host: operator/ (the CLI's grants), clones/ (the clone cache of
   * remote repositories), builds/ (locks; records and logs too on the local backend).
   */
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
  /**
   * Where build records and logs go (`ci-merge/builds/…`); absent: the process's store when it is
   * S3, else the local folder holding `ciDir` (build-records.ts `buildStoreFor`).
   */
  store?: ObjectStore;
}

export const runsAsRoot = () => process.getuid?.() === 0;

/**
 * Whether a repository is named by a remote URL (`scheme://…`, `transport::…`, `user@host:path`)
 * rather than a folder: anything but an absolute path. Remotes are compared as written and reach
 * git only through the builder's protocol limit (ci-git.ts).
 */
export const isRemoteRepository = (repo: string) => !path.isAbsolute(repo);

const remoteEntry = /^([A-Za-z][A-Za-z0-9+.-]*:(\/\/|:)|[^/\s]+@[^/\s:]+:)/;

/** A remote as compared with the allowlist: trimmed, without trailing slashes. */
export const normalizedRemote = (url: string) => url.trim().replace(/\/+$/, '');

/**
 * The repositories of BATCH_CI_REPOSITORIES: entries separated by `,` or new lines; a remote URL
 * stays as written, anything else is `:`-separated folders (the older form), made absolute (not
 * yet resolved on disk).
 */
export function allowedRepositoriesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.BATCH_CI_REPOSITORIES ?? '')
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter(Boolean)
    .flatMap((entry) =>
      remoteEntry.test(entry)
        ? [normalizedRemote(entry)]
        : entry
            .split(path.delimiter)
            .filter(Boolean)
            .map((p) => path.resolve(p)),
    );
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
