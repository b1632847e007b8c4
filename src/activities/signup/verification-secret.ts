/**
 * The secret verification codes are made with (verification-code.ts). Every host that sends or
 * checks codes must hold the same one, or a code mailed by one host is "wrong" on another. So it
 * lives where every sign-up worker already reaches and nothing else is needed:
 *
 * - BATCH_SIGNUP_SECRET (64 or more hex digits), when set: the operator's secret (e.g. from a
 *   Kubernetes Secret), never written anywhere by us.
 * - otherwise the object store, key `secrets/signup/verification-key`: made by the first worker
 *   that needs it with a conditional put (`ifAbsent`), so workers racing on a fresh bucket agree
 *   on one. On the local folder that is `<dataDir>/secrets/signup/verification-key`, mode 600; a
 *   secret from before the move (`<dataDir>/ledgers/notify/.verification-secret`) is taken over,
 *   so codes already mailed keep working.
 *
 * Either way a fingerprint of the secret (an HMAC, not the secret) is put once beside it: a host
 * whose secret differs — BATCH_SIGNUP_SECRET set on some hosts only, or to another value — refuses
 * to make or check codes, saying so, instead of mailing codes the other hosts reject.
 */
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore } from '../../storage/object-store';

export const secretKey = 'secrets/signup/verification-key';
export const fingerprintKey = 'secrets/signup/verification-key.fingerprint';

/** Where the secret was before it moved into the store (a file in the local ledger folder). */
export const legacySecretFile = (dataDir: string) => path.join(dataDir, 'ledgers', 'notify', '.verification-secret');

const hexSecret = /^[0-9a-f]{64,}$/i;

function parseSecret(text: string, where: string, fix: string): Buffer {
  const trimmed = text.trim();
  if (!hexSecret.test(trimmed))
    throw new Error(`The verification secret ${where} is not 64 or more hex digits; ${fix}`);
  return Buffer.from(trimmed, 'hex');
}

/** The secret of BATCH_SIGNUP_SECRET, or undefined when unset. */
export function secretFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const value = env.BATCH_SIGNUP_SECRET;
  if (value === undefined || value === '') return undefined;
  return parseSecret(
    value,
    'in BATCH_SIGNUP_SECRET',
    'set it to e.g. the output of `openssl rand -hex 32`, the same on every sign-up worker (or unset it to keep the secret in the object store).',
  );
}

const storedFix = (store: ObjectStore) =>
  `delete ${store.uriOf(secretKey)} and ${store.uriOf(fingerprintKey)} to have a new one made (codes already mailed then stop working), or restore it.`;

async function readStored(store: ObjectStore): Promise<Buffer | undefined> {
  const bytes = await store.getBytes(secretKey);
  return bytes && parseSecret(bytes.toString('utf8'), store.uriOf(secretKey), storedFix(store));
}

/** On the local folder: the file made with mode 600 and linked into place (one winner of a race). */
async function createLocal(file: string, content: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.pending`;
  await fs.writeFile(tmp, content, { mode: 0o600 });
  try {
    await fs.link(tmp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

async function storedSecret(store: ObjectStore, legacyFile: string | undefined): Promise<Buffer> {
  const existing = await readStored(store);
  if (existing) return existing;
  const legacy = legacyFile && (await fs.readFile(legacyFile, 'utf8').catch(() => undefined));
  const content = legacy?.trim() ? legacy.trim() + '\n' : randomBytes(32).toString('hex') + '\n';
  if (store.kind === 'local') await createLocal(store.uriOf(secretKey), content);
  else await store.putBytes(secretKey, content, { ifAbsent: true, contentType: 'text/plain' });
  // Whoever won the race: its secret is the one.
  const made = await readStored(store);
  if (!made) throw new Error(`The verification secret ${store.uriOf(secretKey)} was written but cannot be read back.`);
  return made;
}

export const secretFingerprint = (secret: Buffer) =>
  createHmac('sha256', secret).update('batch sign-up secret fingerprint').digest('hex').slice(0, 32);

/** The secret every sign-up worker shares (see above); throws saying what to fix when hosts disagree. */
export async function loadVerificationSecret(
  store: ObjectStore,
  options: { env?: NodeJS.ProcessEnv; legacyFile?: string } = {},
): Promise<Buffer> {
  const fromEnv = secretFromEnv(options.env);
  const secret = fromEnv ?? (await storedSecret(store, options.legacyFile));
  const fingerprint = secretFingerprint(secret);
  await store.putBytes(fingerprintKey, fingerprint + '\n', { ifAbsent: true, contentType: 'text/plain' });
  const agreed = (await store.getBytes(fingerprintKey))?.toString('utf8').trim();
  if (agreed !== fingerprint) {
    throw new Error(
      `This worker's verification secret (${fromEnv ? 'BATCH_SIGNUP_SECRET' : store.uriOf(secretKey)}) is not the one the other sign-up workers use ` +
        `(fingerprint ${agreed} in ${store.uriOf(fingerprintKey)}): codes it made would be refused elsewhere. ` +
        'Give every sign-up worker the same BATCH_SIGNUP_SECRET (or unset it everywhere); to change the secret on purpose, delete the fingerprint object.',
    );
  }
  return secret;
}
