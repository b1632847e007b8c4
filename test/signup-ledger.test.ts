/**
 * The sign-up's ledger and code secret in the object store (the local-folder backend here; the
 * S3 backend with two hosts in signup-hosts.test.ts): keys by workflow and first run, written once,
 * entries and secrets of before the move still honoured, and hosts that would make different codes
 * refusing instead of mailing codes the others reject.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EffectLedger, effectId, ledgerKey } from '../src/activities/signup/ledger';
import {
  fingerprintKey,
  legacySecretFile,
  loadVerificationSecret,
  secretKey,
} from '../src/activities/signup/verification-secret';
import { LocalObjectStore } from '../src/storage/local-store';
import { signupDataDir } from './support/signup';

describe('sign-up ledger and code secret in the object store', function () {
  let dir: string;
  let store: LocalObjectStore;

  beforeEach(function () {
    dir = signupDataDir(`signup-ledger-${this.currentTest?.title.slice(0, 20).replace(/\W+/g, '-')}`);
    store = new LocalObjectStore(dir);
  });

  it('keys entries by workflow ID, first run ID and step, each kept inside its own key segment', () => {
    assert.equal(
      ledgerKey({ workflowId: 'signup/u-ada', runId: '4f6c-9a', step: 'verification' }),
      'ledgers/signup/signup%2Fu-ada/4f6c-9a/verification.json',
    );
    assert.equal(
      ledgerKey({ workflowId: 'signup/old', step: 'welcome' }),
      'ledgers/signup/signup%2Fold/no-run/welcome.json',
    );
    // Hostile IDs stay one segment each: no `..`, no empty segment, no key over the limit.
    assert.equal(
      ledgerKey({ workflowId: '..', runId: '.', step: 'a/../../b' }),
      'ledgers/signup/%2E%2E/%2E/a%2F..%2F..%2Fb.json',
    );
    const long = ledgerKey({ workflowId: 'x'.repeat(1000), runId: 'r', step: 's' });
    assert.match(long, /^ledgers\/signup\/sha256-[0-9a-f]{64}\/r\/s\.json$/);
    for (const key of [long, ledgerKey({ workflowId: '..', runId: '.', step: 'a/../../b' })]) {
      assert.equal(store.keyOf(store.uriOf(key)), key, 'a valid key inside the store');
    }
  });

  it('records an effect once: a second record keeps the first, and an entry of the old folder still counts', async () => {
    const legacyDir = path.join(dir, 'ledgers', 'notify');
    const ledger = new EffectLedger(() => store, legacyDir);
    const key = { workflowId: 'signup/bo', runId: 'run-1', step: 'verification' };
    assert.equal(await ledger.find(key), undefined);
    assert.deepEqual(await ledger.record(key, { messageId: 'first' }), { messageId: 'first' });
    assert.deepEqual(
      await ledger.record(key, { messageId: 'second' }),
      { messageId: 'first' },
      'the first record stays',
    );
    assert.deepEqual(await ledger.find(key), { messageId: 'first' });
    assert.equal(ledger.uriOf(key), path.join(dir, 'ledgers', 'signup', 'signup%2Fbo', 'run-1', 'verification.json'));

    // Recorded by a worker of before the move (one file per effect ID in <dataDir>/ledgers/notify).
    const old = { workflowId: 'signup/cy', step: 'welcome' };
    fs.mkdirSync(legacyDir, { recursive: true });
    fs.writeFileSync(path.join(legacyDir, `${effectId(old)}.json`), JSON.stringify({ result: { messageId: 'old' } }));
    assert.deepEqual(await ledger.find(old), { messageId: 'old' });
  });

  it('makes one secret for every worker racing on a fresh store, and takes over the one of before the move', async () => {
    const secrets = await Promise.all(Array.from({ length: 6 }, () => loadVerificationSecret(store, { env: {} })));
    assert.equal(new Set(secrets.map((s) => s.toString('hex'))).size, 1, 'one secret');
    assert.equal(secrets[0].length, 32);
    assert.equal(fs.statSync(store.uriOf(secretKey)).mode & 0o777, 0o600);

    const upgraded = new LocalObjectStore(path.join(dir, 'upgraded'));
    const legacy = legacySecretFile(upgraded.root);
    fs.mkdirSync(path.dirname(legacy), { recursive: true });
    fs.writeFileSync(legacy, 'ab'.repeat(32) + '\n');
    const taken = await loadVerificationSecret(upgraded, { env: {}, legacyFile: legacy });
    assert.equal(taken.toString('hex'), 'ab'.repeat(32), 'codes mailed before the upgrade still check');
  });

  it('uses BATCH_SIGNUP_SECRET when set, and a worker whose secret differs from the others refuses, saying what to fix', async () => {
    const env = { BATCH_SIGNUP_SECRET: 'cd'.repeat(32) };
    assert.equal((await loadVerificationSecret(store, { env })).toString('hex'), 'cd'.repeat(32));
    assert.equal(await store.getBytes(secretKey), undefined, 'the operator secret is never written to the store');
    assert.ok(await store.getBytes(fingerprintKey));

    await assert.rejects(
      loadVerificationSecret(store, { env: { BATCH_SIGNUP_SECRET: 'ef'.repeat(32) } }),
      /BATCH_SIGNUP_SECRET\) is not the one the other sign-up workers use .*Give every sign-up worker the same BATCH_SIGNUP_SECRET/,
    );
    await assert.rejects(
      loadVerificationSecret(store, { env: {} }),
      /verification-key\) is not the one the other sign-up workers use/,
      'a worker without the setting refuses too',
    );
    await assert.rejects(
      loadVerificationSecret(store, { env: { BATCH_SIGNUP_SECRET: 'short' } }),
      /BATCH_SIGNUP_SECRET is not 64 or more hex digits; set it to e\.g\. the output of `openssl rand -hex 32`/,
    );
  });
});
