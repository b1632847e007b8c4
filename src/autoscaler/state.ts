/**
 * What the autoscaler writes for people and for `npm run cli -- status`: a state file under the
 * data folder (its pools, their worker processes and recent decisions), rewritten atomically
 * after every round, and one JSON line per event on its output, with the numbers behind it.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { processAlive, writeAtomically } from '../infra/atomic-write';
import type { AutoscalePool } from './config';
import type { ScaleDecision } from './policy';

export type WorkerState = 'starting' | 'running' | 'draining';

export interface WorkerRecord {
  id: number;
  /** Unknown while the process is starting. */
  pid?: number;
  state: WorkerState;
  startedAt: string;
  logFile: string;
}

/** A decision as logged: the policy's numbers plus the pool's limits, time as ISO text. */
export type DecisionRecord = Omit<ScaleDecision, 'at'> & { time: string };

export interface PoolState {
  pool: AutoscalePool;
  /** The last observation (absent until the first one). */
  backlog?: number;
  inFlight?: number;
  /** The Kafka consumer group's lag, for a pool with `kafkaLag` (absent when unread). */
  lag?: number;
  observedAt?: string;
  workers: WorkerRecord[];
  /** The most recent logged decisions, oldest first. */
  decisions: DecisionRecord[];
}

export interface AutoscalerState {
  pid: number;
  startedAt: string;
  updatedAt: string;
  intervalSeconds: number;
  pools: PoolState[];
}

/** One line of the autoscaler's log. */
export type AutoscalerEvent =
  | ({ event: 'decision'; pool: string; taskQueue: string } & DecisionRecord &
      Omit<AutoscalePool, 'name' | 'taskQueue'>)
  | { event: 'worker-started'; time: string; pool: string; worker: number; pid: number; logFile: string }
  | { event: 'worker-stopping'; time: string; pool: string; worker: number; pid?: number; reason: string }
  | {
      event: 'worker-exited';
      time: string;
      pool: string;
      worker: number;
      pid: number;
      code: number | null;
      expected: boolean;
    }
  | { event: 'worker-start-failed'; time: string; pool: string; worker: number; message: string; retryAt: string }
  | { event: 'error'; time: string; pool?: string; message: string };

/** Decisions kept per pool in the state file. */
export const decisionsKept = 10;

export function autoscalerStateFile(dataDir: string): string {
  return path.join(dataDir, 'autoscaler', 'state.json');
}

export async function writeAutoscalerState(file: string, state: AutoscalerState): Promise<void> {
  await writeAtomically(file, (tmp) => fsp.writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`));
}

/** The state file, or undefined when there is none (no autoscaler has run with this data folder). */
export function readAutoscalerState(file: string): AutoscalerState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as AutoscalerState;
}

/** True while the process that wrote the state is alive. */
export function autoscalerAlive(state: AutoscalerState): boolean {
  return processAlive(state.pid);
}
