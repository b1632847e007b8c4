/**
 * What a task queue holds, as the server sees it: tasks waiting (DescribeTaskQueue, see
 * taskQueueBacklog) and tasks running on workers (ListWorkers: each Worker's heartbeat reports
 * its task slots in use). In flight covers every worker on the queue, whoever started it.
 *
 * Worker heartbeats and ListWorkers are off by default on Server 1.29 (dynamic config
 * `frontend.WorkerHeartbeatsEnabled`, `frontend.ListWorkersEnabled`; the embedded dev server
 * turns both on). Without them in flight is unknown and the policy goes by the backlog alone.
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { taskQueueBacklog, TaskQueueType, WorkflowServiceHolder } from '../workers/work-stealer';

export interface QueueLoad {
  backlog: number;
  /** Task slots in use on the queue's running workers; undefined when the server cannot tell. */
  inFlight: number | undefined;
}

/**
 * A heartbeat older than this is from a worker that is gone (killed: it never said goodbye).
 * Covers workers heartbeating at the SDK's default interval (60 s) as well as the project's (5 s).
 */
const staleHeartbeatMs = 65_000;

const WORKER_STATUS_RUNNING = 1;

export async function queueLoad(
  client: WorkflowServiceHolder,
  namespace: string,
  taskQueue: string,
  type: TaskQueueType,
  now = Date.now(),
): Promise<QueueLoad> {
  const [backlog, inFlight] = await Promise.all([
    taskQueueBacklog(client, namespace, taskQueue, type),
    tasksInFlight(client, namespace, taskQueue, type, now),
  ]);
  return { backlog, inFlight };
}

/**
 * Slots in use on the queue's running workers. Workers shutting down are left out: they finish
 * what they hold and need no replacement for it.
 */
export async function tasksInFlight(
  client: WorkflowServiceHolder,
  namespace: string,
  taskQueue: string,
  type: TaskQueueType,
  now = Date.now(),
): Promise<number | undefined> {
  let total = 0;
  let nextPageToken: Uint8Array | undefined;
  do {
    let page: Awaited<ReturnType<WorkflowServiceHolder['workflowService']['listWorkers']>>;
    try {
      page = await client.workflowService.listWorkers({
        namespace,
        pageSize: 200,
        nextPageToken,
        query: `TaskQueue = ${JSON.stringify(taskQueue)}`,
      });
    } catch (error) {
      if ((error as { code?: number }).code === grpcStatus.UNIMPLEMENTED) return undefined;
      throw error;
    }
    for (const info of page.workersInfo ?? []) {
      const heartbeat = info.workerHeartbeat;
      if (!heartbeat || heartbeat.taskQueue !== taskQueue || heartbeat.status !== WORKER_STATUS_RUNNING) continue;
      const beatAt = heartbeat.heartbeatTime ? Number(heartbeat.heartbeatTime.seconds ?? 0) * 1000 : undefined;
      if (beatAt === undefined || now - beatAt > staleHeartbeatMs) continue;
      const slots = type === 'workflow' ? heartbeat.workflowTaskSlotsInfo : heartbeat.activityTaskSlotsInfo;
      total += slots?.currentUsedSlots ?? 0;
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return total;
}
