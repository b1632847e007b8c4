/**
 * A wrong S3 setting stops a worker at start, not item by item mid-run: a real worker process
 * (startWorkerProcess) against the real Versity gateway exits non-zero at once with a message
 * naming the setting to fix, and never even connects to Temporal. Its "Temporal" here is a TCP
 * listener that counts connections: a worker that went on to poll would connect to it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createBucket } from '../src/cli/create-bucket';
import { loadConfig } from '../src/infra/config';
import { chooseStackStorage } from '../src/devstack/stack-storage';
import { freePort } from '../src/infra/wait';
import { startWorkerProcess } from '../src/infra/worker-process';
import { outputFolder } from './support/media';
import { startTestS3, TestS3 } from './support/s3';

describe('storage: bad configuration stops a worker process at start', function () {
  this.timeout(60_000);
  let s3: TestS3;
  let temporal: net.Server;
  let connections = 0;
  let address: string;
  const dir = outputFolder('storage-config-errors');

  before(async () => {
    s3 = await startTestS3('config-errors');
    temporal = net.createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => temporal.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(temporal.address() as net.AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => temporal?.close(() => resolve()));
    await s3?.stop();
  });

  /** Starts a worker with the gateway's settings changed by `env`; returns the error it failed with. */
  async function failedStart(name: string, env: Record<string, string>): Promise<{ message: string; log: string }> {
    const logFile = path.join(dir, `${name}.log`);
    fs.rmSync(logFile, { force: true });
    const before = connections;
    let message = '';
    await assert.rejects(
      startWorkerProcess({
        name: `worker (${name})`,
        config: loadConfig({ TEMPORAL_ADDRESS: address }),
        logFile,
        roles: 'stages',
        // Far longer than a check takes: a worker that hung instead of exiting would show as a timeout.
        readyTimeoutMs: 45_000,
        env: { ...s3.env, ...env, BATCH_DATA_DIR: path.join(dir, name), BATCH_LOG_FORMAT: 'text' },
      }),
      (error: Error) => {
        message = error.message;
        return true;
      },
    );
    assert.match(message, new RegExp(`worker \\(${name}\\) exited at start \\(code 1\\)`), message);
    const log = fs.readFileSync(logFile, 'utf8');
    assert.doesNotMatch(log, /worker ready/);
    assert.equal(connections - before, 0, 'the worker never connected to Temporal');
    return { message, log };
  }

  it('wrong credentials: names BATCH_S3_ACCESS_KEY_ID and BATCH_S3_SECRET_ACCESS_KEY', async () => {
    const { log } = await failedStart('wrong-credentials', { BATCH_S3_SECRET_ACCESS_KEY: 'not-the-secret' });
    assert.match(log, /access denied\. Check BATCH_S3_ACCESS_KEY_ID and BATCH_S3_SECRET_ACCESS_KEY/);
    assert.doesNotMatch(log, /not-the-secret/, 'the secret is never logged');
  });

  it('missing bucket: names the bucket and BATCH_S3_BUCKET', async () => {
    const { log } = await failedStart('missing-bucket', { BATCH_S3_BUCKET: 'no-such-bucket' });
    assert.match(log, /bucket no-such-bucket does not exist\. Create it, or set BATCH_S3_BUCKET/);
  });

  it('unreachable endpoint: names the endpoint and BATCH_S3_ENDPOINT', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const { log } = await failedStart('unreachable', { BATCH_S3_ENDPOINT: endpoint });
    assert.match(log, new RegExp(`\\(${endpoint.replace(/[.:/]/g, '\\$&')}\\): the S3 endpoint is unreachable`));
    assert.match(log, /Check BATCH_S3_ENDPOINT and that the server runs/);
  });

  it('incomplete settings: BATCH_STORAGE=s3 without a bucket', async () => {
    const { log } = await failedStart('no-bucket', { BATCH_S3_BUCKET: '' });
    assert.match(log, /BATCH_STORAGE=s3 needs BATCH_S3_BUCKET/);
  });

  it("create-bucket (docker-compose's s3-setup) makes a missing bucket usable, and a second run changes nothing", async () => {
    const env = { ...s3.env, BATCH_S3_BUCKET: 'made-by-setup' };
    assert.equal(await createBucket(env), `Bucket made-by-setup is ready on ${s3.gateway.endpoint}.`);
    assert.equal(await createBucket(env), `Bucket made-by-setup is ready on ${s3.gateway.endpoint}.`);
    await assert.rejects(
      createBucket({ ...env, BATCH_S3_SECRET_ACCESS_KEY: 'wrong' }),
      /access denied\. Check BATCH_S3_ACCESS_KEY_ID and BATCH_S3_SECRET_ACCESS_KEY/,
    );
  });

  it('npm start refuses contradictory or invalid storage choices with what to change', () => {
    assert.throws(() => chooseStackStorage(true, { BATCH_STORAGE: 'local' }), /unset BATCH_STORAGE or drop --s3/);
    assert.throws(() => chooseStackStorage(true, { BATCH_S3_PORT: 'http' }), /BATCH_S3_PORT=http is not a valid port/);
    assert.throws(
      () => chooseStackStorage(true, { BATCH_S3_BUCKET: 'Media_Files' }),
      /BATCH_S3_BUCKET=Media_Files is not a bucket name/,
    );
    assert.throws(() => chooseStackStorage(false, { BATCH_STORAGE: 'nfs' }), /"local" or "s3"/);
    assert.deepEqual(chooseStackStorage(false, {}), { kind: 'local' });
    const gateway = chooseStackStorage(true, { BATCH_S3_PORT: '7171' });
    assert.equal(gateway.kind === 'gateway' && `${gateway.gateway.port} ${gateway.gateway.bucket}`, '7171 batch');
    // An S3 service of the environment wins over --s3: no gateway of our own.
    const external = chooseStackStorage(true, {
      BATCH_STORAGE: 's3',
      BATCH_S3_BUCKET: 'media',
      BATCH_S3_ENDPOINT: 'http://minio:9000',
    });
    assert.equal(external.kind, 'external');
  });
});
