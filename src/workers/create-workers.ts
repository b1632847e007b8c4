import { NativeConnection, Worker } from '@temporalio/worker';
import type { BatchConfig } from '../infra/config';
import { stageActivities } from '../activities/pipeline';
import { autoHeartbeat } from './auto-heartbeat';
import { planRole, WorkerRole } from './roles';
import { shardQueueActivities } from './shard-activities';
import { workflowsEntry } from './workflow-bundle';

export interface CreateWorkersOptions {
  connection: NativeConnection;
  config: BatchConfig;
  roles: WorkerRole[];
  /** Shard task queues (`<queue>-shard-<k>`) to serve: the sign-up flow's with mail/SMS, others with the stage activities. */
  shardQueues?: string[];
  /** A prebuilt workflow bundle; without it the workflow role bundles at start (slower). */
  workflowBundlePath?: string;
  identity?: string;
}

/**
 * How long a worker told to stop (SIGTERM: Ctrl-C, an autoscaler's scale-down, a Kubernetes pod
 * ending) lets its activities in flight finish before cancelling them. The SDK's default, 0,
 * cancels them at once: their attempt fails and is retried elsewhere. Kubernetes pods give the
 * worker more than this (terminationGracePeriodSeconds, checked by test/k8s-manifests.test.ts).
 */
export const workerShutdownGraceSeconds = 30;

/** One Temporal Worker per role and per shard queue, all on one connection, in this process. */
export async function createWorkers(options: CreateWorkersOptions): Promise<Worker[]> {
  const shutdownGraceTime = workerShutdownGraceSeconds * 1000;
  const shardWorkers = (options.shardQueues ?? []).map((taskQueue) =>
    Worker.create({
      connection: options.connection,
      namespace: options.config.namespace,
      taskQueue,
      identity: options.identity ? `${options.identity}/${taskQueue}` : undefined,
      activities: shardQueueActivities(taskQueue, options.config),
      interceptors: { activity: [autoHeartbeat] },
      shutdownGraceTime,
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
      // The workflow worker runs the stage activities of `local: true` stages (local activities).
      activities: role === 'workflows' ? stageActivities : plan.activities,
      maxConcurrentActivityTaskExecutions: plan.maxConcurrentActivityTaskExecutions,
      interceptors: { activity: [autoHeartbeat] },
      shutdownGraceTime,
      ...workflows,
    });
  });
  return Promise.all([...roleWorkers, ...shardWorkers]);
}
