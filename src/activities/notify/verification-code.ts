/**
 * Verification codes that never pass through Temporal: the code of a sign-up is an HMAC of its
 * effect key under a secret only the notify workers hold, so the activity that mails it and the
 * activity that checks an entered code both compute it, and workflow inputs, results, queries and
 * history carry neither the code nor anything it could be guessed from offline (a plain hash of
 * a short code would be: 2^32 tries take seconds).
 *
 * The same key gives the same code, so a mail sent again after a crash carries the same code; a
 * new execution (another first run ID) gets another. The secret is `<ledger>/.verification-secret`
 * (created on first use, mode 600): workers on several hosts share it with the ledger folder.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { effectId } from './ledger';
import type { EffectKey } from './types';

export const verificationSecretFile = (ledgerDir: string) => path.join(ledgerDir, '.verification-secret');

async function readSecret(file: string): Promise<Buffer> {
  const text = (await fs.readFile(file, 'utf8')).trim();
  if (!/^[0-9a-f]{64,}$/i.test(text)) {
    throw new Error(
      `The verification secret ${file} is not 64 or more hex digits; delete it to have a new one made (codes already mailed then stop working) or restore it from the shared ledger folder.`,
    );
  }
  return Buffer.from(text, 'hex');
}

/** The secret in `file`, created (atomically, once, even with workers racing) when missing. */
export async function loadVerificationSecret(file: string): Promise<Buffer> {
  try {
    return await readSecret(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  try {
    await fs.link(tmp, file); // fails if another worker created it first: then theirs is used
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await fs.rm(tmp, { force: true });
  }
  return readSecret(file);
}

/** 8 hex digits, as users type them. */
export const codeLength = 8;

export function verificationCode(secret: Buffer, key: EffectKey): string {
  return createHmac('sha256', secret)
    .update(`verification\0${effectId(key)}`)
    .digest('hex')
    .slice(0, codeLength);
}

/** Whether `given` (as a user typed it: case and surrounding spaces do not matter) is the code of `key`. */
export function codeMatches(secret: Buffer, key: EffectKey, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const typed = Buffer.from(given.trim().toLowerCase());
  const expected = Buffer.from(verificationCode(secret, key));
  return typed.length === expected.length && timingSafeEqual(typed, expected);
}
