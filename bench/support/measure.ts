/**
 * Measuring helpers shared by the benchmarks: a process's RSS and CPU time from /proc (Linux),
 * and every execution of a run with its history length, once visibility has caught up.
 */
import fs from 'node:fs';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { sleep } from '../../src/infra/wait';

export function procRss(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Fields of /proc/<pid>/stat after the command name (field 3 onwards), or undefined when gone. */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process used so far, from /proc (Linux). */
export function procCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = statFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / 100 : 0; // utime, stime in clock ticks (USER_HZ = 100)
}

/**
 * CPU seconds of this process's children that exited and were reaped (cutime + cstime): the
 * difference across a child's life is what that child used, when no other child ended meanwhile.
 */
export function reapedChildrenCpuSeconds(): number {
  const fields = statFields('self');
  return fields ? (Number(fields[13]) + Number(fields[14])) / 100 : 0;
}

/**
 * Every execution whose workflow ID starts with `prefix` (each continue-as-new run counts), once
 * visibility has caught up: all closed, at least `atLeast` of them, the same count twice in a row.
 */
export async function executions(client: Client, prefix: string, atLeast: number): Promise<WorkflowExecutionInfo[]> {
  const query = `WorkflowId STARTS_WITH "${prefix}"`;
  const deadline = Date.now() + 180_000;
  let previous = -1;
  for (;;) {
    const found: WorkflowExecutionInfo[] = [];
    for await (const info of client.workflow.list({ query, pageSize: 1000 })) found.push(info);
    const settled = found.length >= atLeast && found.every((e) => e.status.name !== 'RUNNING');
    if (settled && found.length === previous) return found;
    if (Date.now() > deadline) {
      throw new Error(`visibility did not settle for ${prefix}: ${found.length} executions, expected ≥ ${atLeast}`);
    }
    previous = settled ? found.length : -1;
    await sleep(1000);
  }
}

export async function historyLength(client: Client, e: WorkflowExecutionInfo): Promise<number> {
  if (e.historyLength > 0) return e.historyLength;
  return (await client.workflow.getHandle(e.workflowId, e.runId).describe()).historyLength;
}
