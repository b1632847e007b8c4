/**
 * What a run of a build pipeline (one with a `build-commit` stage) may ask for when it comes from
 * the API or an event rather than the operator's CLI: only repositories on the server's allowlist
 * (BATCH_CI_REPOSITORIES), no build command (a commit builds with its own `.batch-ci`), no builds
 * folder (the server's). The API answers 400 with these messages and starts nothing; the build
 * activity checks the same again (src/activities/ci-merge/build-commit.ts), for runs started any
 * other way.
 */
import fs from 'node:fs/promises';
import type { PipelineSpec } from '../../pipelines/spec';
import { allowedRepositoriesFromEnv, isRemoteRepository, normalizedRemote } from './ci-settings';

export const buildActivityName = 'build-commit';
export const defaultTimeoutSeconds = 600;
/** One day: far below what a timer can wait (2^31-1 ms, about 24.8 days), and above any stage timeout here. */
export const maxTimeoutSeconds = 24 * 60 * 60;

/** Whether runs of `spec` build commits (and their items must be confined). */
export function buildsCommits(spec: PipelineSpec): boolean {
  return Object.values(spec.stages).some(
    (stage) => (stage.kind === 'activity' || stage.kind === 'shard') && stage.activity === buildActivityName,
  );
}

/** What is wrong with a build timeout, or '' when it is fine (absent means the default). */
export function timeoutProblem(value: unknown): string {
  if (value === undefined) return '';
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= maxTimeoutSeconds
    ? ''
    : `"timeoutSeconds" must be a whole number of seconds from 1 to ${maxTimeoutSeconds} (a day), not ${JSON.stringify(value)}`;
}

/**
 * `repo` as the builder uses it when it is one of `allowed`, else undefined: a folder's real path
 * (compared as real paths), a remote URL as the allowlist writes it (compared exactly, trailing
 * slashes aside).
 */
export async function allowedRepository(repo: string, allowed: readonly string[]): Promise<string | undefined> {
  if (typeof repo !== 'string' || repo === '') return undefined;
  if (isRemoteRepository(repo)) {
    const url = normalizedRemote(repo);
    return allowed.some((entry) => isRemoteRepository(entry) && normalizedRemote(entry) === url) ? url : undefined;
  }
  const real = await fs.realpath(repo).catch(() => undefined);
  if (real === undefined) return undefined;
  for (const entry of allowed) {
    if ((await fs.realpath(entry).catch(() => entry)) === real) return real;
  }
  return undefined;
}

export function notAllowedMessage(what: string, repo: string, allowed: readonly string[]): string {
  const now = allowed.length === 0 ? 'it is empty or unset' : `now: ${allowed.join(', ')}`;
  return `${what} ${JSON.stringify(repo)} is not a repository this server builds. The operator allows a repository by adding its top folder or its URL (file://, https://, ssh://) to BATCH_CI_REPOSITORIES (folders \`:\`-separated, URLs \`,\`-separated; ${now}) for the API and the workers, and restarting them.`;
}

/**
 * Why the data of an item bound for a build pipeline is refused, or undefined when it may run.
 * `where` names the item in the request, e.g. `items[2].`.
 */
export async function refusedBuildItem(
  data: Record<string, unknown> | undefined,
  where: string,
  allowed: readonly string[] = allowedRepositoriesFromEnv(),
): Promise<string | undefined> {
  const d = data ?? {};
  for (const field of ['command', 'commandId']) {
    if (d[field] !== undefined)
      return `${where}data.${field}: a run started through the API or an event cannot carry a build command; each commit builds with its own .batch-ci file (a command for every commit is the operator's: \`run ci-merge --command\` on the command line). Remove "${field}".`;
  }
  if (d.buildsDir !== undefined)
    return `${where}data.buildsDir: where builds are recorded is the server's setting (<data folder>/ci-merge/builds), not a request's. Remove "buildsDir".`;
  if (typeof d.repo !== 'string' || d.repo === '')
    return `${where}data.repo must be the path or URL of a git repository on the server's BATCH_CI_REPOSITORIES list.`;
  if (!(await allowedRepository(d.repo, allowed))) return notAllowedMessage(`${where}data.repo`, d.repo, allowed);
  const timeout = timeoutProblem(d.timeoutSeconds);
  return timeout ? `${where}data: ${timeout}.` : undefined;
}

/** Why an event's data is refused by one of the subscribed build pipelines, or undefined. */
export async function refusedBuildEvent(
  specs: readonly PipelineSpec[],
  data: Record<string, unknown>,
): Promise<string | undefined> {
  return specs.some(buildsCommits) ? refusedBuildItem(data, '') : undefined;
}
