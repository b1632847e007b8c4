/**
 * `npm run cli -- status`: per autoscaled queue, what waits and runs there now (read live from the
 * server), the worker processes the autoscaler keeps for it, its min/max and its last decisions
 * (from the autoscaler's state file). Works with no autoscaler running, and says so.
 */
import type { WorkflowServiceHolder } from '../workers/work-stealer';
import type { AutoscaleConfig } from './config';
import { queueLoad } from './queue-load';
import { AutoscalerState, DecisionRecord, WorkerRecord } from './state';

export interface QueueStatus {
  pool: string;
  taskQueue: string;
  taskType: string;
  min: number;
  max: number;
  targetBacklogPerWorker: number;
  coolDownSeconds: number;
  /** Live from the server; undefined when it could not be read (`error` says why). */
  backlog?: number;
  inFlight?: number;
  error?: string;
  /** From the state file; undefined when no autoscaler runs. */
  workers?: WorkerRecord[];
  decisions: DecisionRecord[];
}

/** Live numbers for every configured pool, joined with the running autoscaler's state, if any. */
export async function autoscalerStatus(
  client: WorkflowServiceHolder,
  namespace: string,
  autoscale: AutoscaleConfig,
  running: AutoscalerState | undefined,
): Promise<QueueStatus[]> {
  return Promise.all(
    autoscale.pools.map(async (pool): Promise<QueueStatus> => {
      const state = running?.pools.find((p) => p.pool.name === pool.name);
      const base: QueueStatus = {
        pool: pool.name,
        taskQueue: pool.taskQueue,
        taskType: pool.taskType,
        min: pool.min,
        max: pool.max,
        targetBacklogPerWorker: pool.targetBacklogPerWorker,
        coolDownSeconds: pool.coolDownSeconds,
        workers: running && (state?.workers ?? []),
        decisions: state?.decisions ?? [],
      };
      try {
        const load = await queueLoad(client, namespace, pool.taskQueue, pool.taskType);
        return { ...base, backlog: load.backlog, inFlight: load.inFlight };
      } catch (error) {
        return { ...base, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

/** A table of the queues, then each queue's last decisions (newest last). */
export function formatAutoscalerStatus(
  queues: QueueStatus[],
  autoscaler: { running: boolean; pid?: number; updatedAt?: string; configFile: string },
  lastDecisions = 3,
): string {
  const header = autoscaler.running
    ? `Autoscaler: running (pid ${autoscaler.pid}, state of ${autoscaler.updatedAt}), config ${autoscaler.configFile}`
    : `Autoscaler: not running (start it with \`npm run autoscaler\`); config ${autoscaler.configFile}`;
  const rows = [
    ['pool', 'task queue', 'backlog', 'in flight', 'workers', 'min..max', 'target/worker', 'cool-down'],
    ...queues.map((q) => [
      q.pool,
      `${q.taskQueue} (${q.taskType})`,
      q.error ? 'error' : String(q.backlog),
      q.error ? '' : q.inFlight === undefined ? '?' : String(q.inFlight),
      workersText(q.workers),
      `${q.min}..${q.max}`,
      String(q.targetBacklogPerWorker),
      `${q.coolDownSeconds} s`,
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const table = rows.map((r) =>
    r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '),
  );
  const details = queues.flatMap((q) => [
    ...(q.error ? [`${q.pool}: cannot read ${q.taskQueue}: ${q.error}`] : []),
    ...q.decisions.slice(-lastDecisions).map((d) => `${q.pool}  ${d.time}  ${d.action} ${d.from}→${d.to}: ${d.reason}`),
  ]);
  const notes = queues.some((q) => !q.error && q.inFlight === undefined)
    ? ['in flight "?": the server does not report worker heartbeats (see docs/autoscaling.md).']
    : [];
  return [header, '', ...table, ...(details.length ? ['', 'Last decisions:', ...details] : []), ...notes].join('\n');
}

function workersText(workers: WorkerRecord[] | undefined): string {
  if (!workers) return '-';
  const draining = workers.filter((w) => w.state === 'draining').length;
  const starting = workers.filter((w) => w.state === 'starting').length;
  const extra = [starting ? `${starting} starting` : '', draining ? `${draining} draining` : ''].filter(Boolean);
  return `${workers.length - draining}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}
