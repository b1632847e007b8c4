import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeAtomically } from '../fs/atomic-write';
import type { EffectKey } from './types';

/** A stable ID of one effect: the same (workflow, run, step) always gives the same 32 hex digits. */
export function effectId(key: EffectKey): string {
  // Keys without a run (older executions) keep their old IDs, so their ledger entries still count.
  const parts = key.runId ? [key.workflowId, key.runId, key.step] : [key.workflowId, key.step];
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}

/** Why `key` cannot name an effect, or undefined when it can. */
export function effectKeyProblem(key: EffectKey | undefined): string | undefined {
  if (!(key?.workflowId && key.step)) return 'the request has no effect key (workflowId and step)';
  if (key.runId !== undefined && (typeof key.runId !== 'string' || key.runId === '')) {
    return "the effect key's runId must be a non-empty string when given";
  }
  return undefined;
}

/**
 * The idempotency ledger of external effects (a mail sent, an SMS handed over): one small JSON
 * file per (workflow, step) under `dir`, written atomically once the effect has happened. An
 * activity looks here first, so a retry of an attempt whose worker died after the effect returns
 * the recorded result instead of sending again. Shared by every worker on one machine (or on a
 * shared volume); workers on other hosts need the same folder to dedupe across hosts.
 */
export class EffectLedger {
  constructor(readonly dir: string) {}

  private file(key: EffectKey): string {
    return path.join(this.dir, `${effectId(key)}.json`);
  }

  /** The recorded result of `key`, or undefined when it has not happened (as far as we know). */
  async find<T>(key: EffectKey): Promise<T | undefined> {
    try {
      const entry = JSON.parse(await fs.readFile(this.file(key), 'utf8')) as { result: T };
      return entry.result;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async record<T>(key: EffectKey, result: T): Promise<void> {
    const entry = { ...key, recordedAt: new Date().toISOString(), result };
    await writeAtomically(this.file(key), (tmp) => fs.writeFile(tmp, JSON.stringify(entry, null, 2) + '\n'));
  }
}
