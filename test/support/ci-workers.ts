import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { reportActivities, stageActivities } from '../../src/activities/pipeline';
import { buildCommitActivity } from '../../src/activities/ci-merge/build-commit';
import { CiSettings, ciSettingsFromEnv } from '../../src/activities/ci-merge/ci-settings';
import type { BatchConfig } from '../../src/infra/config';
import { autoHeartbeat } from '../../src/workers/auto-heartbeat';
import { sharedWorkflowBundle } from './servers';

/** CI settings of a test: its own data folder (builds, grants), an allowlist, the host's defaults otherwise. */
export function ciTestSettings(
  dataDir: string,
  repositories: string[] = [],
  more: Partial<CiSettings> = {},
): CiSettings {
  return { ...ciSettingsFromEnv({}, dataDir), repositories, ...more };
}

/**
 * In-process workers for ci-merge tests: the workflow queue and the stage queue, whose
 * `build-commit` uses the test's CI settings (as a worker started with that data folder would).
 */
export async function withCiWorkers<T>(
  env: TestWorkflowEnvironment,
  config: BatchConfig,
  settings: CiSettings,
  body: () => Promise<T>,
  stageOptions: { maxConcurrentActivityTaskExecutions?: number } = {},
): Promise<T> {
  const base = { connection: env.nativeConnection, namespace: config.namespace };
  const [workflows, stages] = await Promise.all([
    Worker.create({ ...base, taskQueue: config.queues.workflow, workflowBundle: await sharedWorkflowBundle() }),
    Worker.create({
      ...base,
      taskQueue: config.queues.stages,
      activities: { ...stageActivities, ...reportActivities, 'build-commit': buildCommitActivity(() => settings) },
      interceptors: { activity: [autoHeartbeat] },
      ...stageOptions,
    }),
  ]);
  return workflows.runUntil(() => stages.runUntil(body));
}

/**
 * A file every build may append to, also when builds run as the unprivileged build user (the
 * worker is root): world-writable, in folders anyone can traverse.
 */
export function sharedFile(file: string): string {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(dir, (mode & 0o777) | 0o755);
  }
  fs.writeFileSync(file, '');
  fs.chmodSync(file, 0o666);
  return file;
}
