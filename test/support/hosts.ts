/**
 * Worker "hosts" for the object-store tests: each is a worker process with its own private data
 * and scratch folder (BATCH_DATA_DIR = test-output/host-<name>) and the S3 settings; nothing is
 * shared between hosts but Temporal and the S3 server. Give two hosts different roles (e.g. one
 * `workflows,video`, the other `image,stages`) and consecutive stages of an item run on
 * different machines as far as the code can tell.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BatchConfig } from '../../src/infra/config';
import type { ManagedProcess } from '../../src/infra/processes';
import { startWorkerProcess } from '../../src/infra/worker-process';
import { outputFolder } from './media';

export interface TestHost {
  name: string;
  /** The host's private folder: its scratch, clone caches, logs. No other host reads it. */
  dataDir: string;
  worker: ManagedProcess;
  logFile: string;
  /** Files under the host's folder (scratch leftovers show here), relative, sorted. */
  files(): string[];
}

export interface TestHostOptions {
  name: string;
  config: BatchConfig;
  /** BATCH_STORAGE=s3 and BATCH_S3_* (test/support/s3.ts `env`). */
  storageEnv: Record<string, string>;
  roles: string;
  shards?: string;
  workflowBundlePath?: string;
  env?: NodeJS.ProcessEnv;
}

export async function startHost(options: TestHostOptions): Promise<TestHost> {
  const dataDir = outputFolder(`host-${options.name}`);
  const logFile = path.join(dataDir, 'worker.log');
  const worker = await startWorkerProcess({
    name: `host ${options.name}`,
    config: options.config,
    roles: options.roles,
    shards: options.shards,
    workflowBundlePath: options.workflowBundlePath,
    logFile,
    env: { ...options.storageEnv, BATCH_DATA_DIR: dataDir, ...options.env },
  });
  const files = () => {
    const out: string[] = [];
    const walk = (dir: string, prefix: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
        if (entry.isDirectory()) walk(path.join(dir, entry.name), rel);
        else out.push(rel);
      }
    };
    walk(dataDir, '');
    return out.sort();
  };
  return { name: options.name, dataDir, worker, logFile, files };
}
