import { ChildProcess, spawn } from 'node:child_process';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { repoRoot } from '../../src/infra/paths';
import { waitFor } from '../../src/infra/wait';
import { pipelineProgressQuery } from '../../src/workflows/pipeline';

/** `npm run cli -- …` as its own process, its output collected. */
export interface CliRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv): CliRun {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/cli/main.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Items done so far (counted per finished partition), or undefined while the query gets no answer (a service is down). */
export async function itemsDone(handle: WorkflowHandle): Promise<number | undefined> {
  return (await handle.query(pipelineProgressQuery).catch(() => undefined))?.done;
}

/** Waits until the run has done `atLeast` items (a fault then lands mid-run). */
export async function waitForProgress(handle: WorkflowHandle, atLeast: number, what: string): Promise<number> {
  let done = 0;
  await waitFor(
    what,
    async () => {
      done = (await itemsDone(handle)) ?? 0;
      return done >= atLeast;
    },
    120_000,
    200,
  );
  return done;
}

/**
 * Exactly once, as visibility sees the run: per workflow ID (the run and its partitions) one
 * completed execution, the rest continued-as-new; none failed, terminated, timed out or running.
 * Visibility on PostgreSQL is written asynchronously, so it is read until every execution closed.
 */
export async function executionsOfRun(client: Client, workflowId: string): Promise<Map<string, string[]>> {
  let byId = new Map<string, string[]>();
  await waitFor(
    `visibility to show every execution of ${workflowId} closed`,
    async () => {
      byId = new Map();
      for await (const execution of client.workflow.list({ query: `WorkflowId STARTS_WITH '${workflowId}'` })) {
        byId.set(execution.workflowId, [...(byId.get(execution.workflowId) ?? []), execution.status.name]);
      }
      return byId.has(workflowId) && [...byId.values()].flat().every((s) => s !== 'RUNNING');
    },
    60_000,
    500,
  );
  return byId;
}
