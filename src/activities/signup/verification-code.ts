/**
 * Verification codes that never pass through Temporal: the code of a sign-up is an HMAC of its
 * effect key under a secret only the notify workers hold, so the activity that mails it and the
 * activity that checks an entered code both compute it, and workflow inputs, results, queries and
 * history carry neither the code nor anything it could be guessed from offline (a plain hash of
 * a short code would be: 2^32 tries take seconds).
 *
 * The same key gives the same code, so a mail sent again after a crash — by any host — carries the
 * same code; a new execution (another first run ID) gets another. Where the secret comes from, and
 * why every host has the same one: verification-secret.ts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { effectId } from './ledger';
import type { EffectKey } from './types';

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
