import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore } from '../../storage/object-store';
import type { EffectKey } from './types';

/** A stable ID of one effect: the same (workflow, run, step) always gives the same 32 hex digits. */
export function effectId(key: EffectKey): string {
  // Keys without a run (older executions) keep their old IDs, so their Message-IDs stay the same.
  const parts = key.runId ? [key.workflowId, key.runId, key.step] : [key.workflowId, key.step];
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}

/** Why `key` cannot name an effect, or undefined when it can. */
export function effectKeyProblem(key: EffectKey | undefined): string | undefined {
  if (!(key?.workflowId && key.step)) return 'the request has no effect key (workflowId and step)';
  if (typeof key.workflowId !== 'string' || typeof key.step !== 'string') {
    return "the effect key's workflowId and step must be strings";
  }
  if (key.runId !== undefined && (typeof key.runId !== 'string' || key.runId === '')) {
    return "the effect key's runId must be a non-empty string when given";
  }
  return undefined;
}

/** Where the ledger lives in the object store. */
export const ledgerPrefix = 'ledgers/signup';
/** The run segment of keys made before the run joined the key (sign-ups started before the patch). */
const noRun = 'no-run';

/**
 * One key segment for any text: URI-encoded (a `/` in a workflow ID stays inside its segment, `.`
 * and `..` cannot appear), or a hash when that would be too long for a key.
 */
function segment(text: string): string {
  const encoded = encodeURIComponent(text).replace(/^\.{1,2}$/, (dots) => '%2E'.repeat(dots.length));
  return Buffer.byteLength(encoded) <= 200 ? encoded : `sha256-${createHash('sha256').update(text).digest('hex')}`;
}

/** `ledgers/signup/<workflowId>/<first execution run ID>/<step>.json` (each segment encoded). */
export function ledgerKey(key: EffectKey): string {
  return [ledgerPrefix, segment(key.workflowId), segment(key.runId ?? noRun), `${segment(key.step)}.json`].join('/');
}

/**
 * The idempotency ledger of external effects (a mail sent, an SMS handed over): one small JSON
 * object per (workflow, first run, step) in the object store, written once the effect happened,
 * with a conditional put (`ifAbsent`: S3 `If-None-Match: *`, a hard link on the local folder). An
 * activity looks here first, so a retry — on this host or any other that reaches the same store —
 * of an attempt whose worker died after the effect returns the recorded result instead of sending
 * again. Nothing of it is on a worker's own disk, so losing a host loses no entry.
 *
 * `legacyDir`: the folder where this ledger lived before it moved to the store
 * (`<dataDir>/ledgers/notify/<effectId>.json`); entries found there still count, so a mail recorded
 * just before an upgrade is not sent again after it.
 */
export class EffectLedger {
  constructor(
    private readonly store: () => ObjectStore,
    private readonly legacyDir?: string,
  ) {}

  /** The URI of the entry of `key` (in the bucket, or a file under the data folder). */
  uriOf(key: EffectKey): string {
    return this.store().uriOf(ledgerKey(key));
  }

  /** The recorded result of `key`, or undefined when it has not happened (as far as we know). */
  async find<T>(key: EffectKey): Promise<T | undefined> {
    const bytes = await this.store().getBytes(ledgerKey(key));
    if (bytes) return (JSON.parse(bytes.toString('utf8')) as { result: T }).result;
    return this.findLegacy<T>(key);
  }

  private async findLegacy<T>(key: EffectKey): Promise<T | undefined> {
    if (!this.legacyDir) return undefined;
    try {
      const text = await fs.readFile(path.join(this.legacyDir, `${effectId(key)}.json`), 'utf8');
      return (JSON.parse(text) as { result: T }).result;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Records `result` once: when an entry exists already (another attempt recorded the same
   * effect), that one stays and is returned — the first record of an effect is the record.
   */
  async record<T>(key: EffectKey, result: T): Promise<T> {
    const entry = { ...key, recordedAt: new Date().toISOString(), result };
    const put = await this.store().putBytes(ledgerKey(key), JSON.stringify(entry, null, 2) + '\n', {
      ifAbsent: true,
      contentType: 'application/json',
    });
    if (put.created) return result;
    return (await this.find<T>(key)) ?? result;
  }
}
