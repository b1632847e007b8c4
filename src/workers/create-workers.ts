import { NativeConnection, Worker } from '@temporalio/worker';
import type { BatchConfig } from '../runtime/config';
import { autoHeartbeat } from './auto-heartbeat';
import { planRole, WorkerRole } from './roles';
import { workflowsEntry } from './workflow-bundle';

export interface CreateWorkersOptions {
  connection: NativeConnection;
  config: BatchConfig;
  roles: WorkerRole[];
  /** A prebuilt workflow bundle; without it the workflow role bundles at start (slower). */
  workflowBundlePath?: string;
  identity?: string;
}

/** One Temporal Worker per role, all on one connection, in this process. */
export async function createWorkers(options: CreateWorkersOptions): Promise<Worker[]> {
  return Promise.all(
    options.roles.map((role) => {
      const plan = planRole(role, options.config);
      const workflows =
        role !== 'workflows'
          ? {}
          : options.workflowBundlePath
            ? { workflowBundle: { codePath: options.workflowBundlePath } }
            : { workflowsPath: workflowsEntry };
      return Worker.create({
        connection: options.connection,
        namespace: options.config.namespace,
        taskQueue: plan.taskQueue,
        identity: options.identity ? `${options.identity}/${role}` : undefined,
        activities: plan.activities,
        maxConcurrentActivityTaskExecutions: plan.maxConcurrentActivityTaskExecutions,
        interceptors: { activity: [autoHeartbeat] },
        ...workflows,
      });
    }),
  );
}
