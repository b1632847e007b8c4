import { NativeConnection, Worker } from '@temporalio/worker';
import type { BatchConfig } from '../runtime/config';
import { stageActivities } from '../activities/pipeline';
import { autoHeartbeat } from './auto-heartbeat';
import { planRole, WorkerRole } from './roles';
import { workflowsEntry } from './workflow-bundle';

export interface CreateWorkersOptions {
  connection: NativeConnection;
  config: BatchConfig;
  roles: WorkerRole[];
  /** Shard task queues (`<queue>-shard-<k>`) to serve with the stage activities. */
  shardQueues?: string[];
  /** A prebuilt workflow bundle; without it the workflow role bundles at start (slower). */
  workflowBundlePath?: string;
  identity?: string;
}

/** One Temporal Worker per role and per shard queue, all on one connection, in this process. */
export async function createWorkers(options: CreateWorkersOptions): Promise<Worker[]> {
  const shardWorkers = (options.shardQueues ?? []).map((taskQueue) =>
    Worker.create({
      connection: options.connection,
      namespace: options.config.namespace,
      taskQueue,
      identity: options.identity ? `${options.identity}/${taskQueue}` : undefined,
      activities: stageActivities,
      interceptors: { activity: [autoHeartbeat] },
    }),
  );
  const roleWorkers = options.roles.map((role) => {
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
  });
  return Promise.all([...roleWorkers, ...shardWorkers]);
}
