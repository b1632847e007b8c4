/**
 * The API's bearer token: BATCH_API_TOKEN when set; otherwise one generated on first use and
 * kept in `<data>/api-token` (readable by the owner only), so restarts keep the same token and a
 * person can read it back for curl.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeAtomically } from '../infra/atomic-write';
import type { ApiConfig } from '../infra/config';

export const apiTokenFile = (dataDir: string) => path.join(dataDir, 'api-token');

async function storedToken(file: string): Promise<string> {
  return (await fs.readFile(file, 'utf8').catch(() => '')).trim();
}

/** The configured token, or the stored one, or a new one written to the token file. */
export async function resolveApiToken(api: ApiConfig, dataDir: string): Promise<{ token: string; source: string }> {
  if (api.token) return { token: api.token, source: 'BATCH_API_TOKEN' };
  const file = apiTokenFile(dataDir);
  if (!(await storedToken(file))) {
    const token = randomBytes(24).toString('base64url');
    await writeAtomically(file, (tmp) => fs.writeFile(tmp, `${token}\n`, { mode: 0o600 }));
  }
  // Owner only, also for a file made by hand or by an older version.
  await fs.chmod(file, 0o600);
  // Read back what the file holds, so this process and the file agree.
  return { token: await storedToken(file), source: file };
}

/** Compares in constant time, so the answer's timing does not leak how much of a guess was right. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
