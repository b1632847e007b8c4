/**
 * `npm start -- --s3` as a person runs it: the stack starts the project's S3 gateway over
 * `<dataDir>/s3/`, uploads the inputs into the bucket, runs the thumbnailer on s3:// URIs and says
 * where the outputs are (in the bucket and as files in the gateway's folder). The gateway is
 * supervised: SIGKILLed while the stack is up, it comes back on the same port with the same
 * credentials and every object. Ctrl-C leaves no process behind. A wrong S3 setting stops it
 * before anything starts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3ObjectStore } from '../src/storage/s3-store';
import { startS3Gateway } from '../src/devstack/s3-gateway';
import { runningGatewayStorage } from '../src/devstack/stack-storage';
import { freePort, portOpen, waitFor } from '../src/infra/wait';
import { sampleVideos } from './support/media';
import { privateStackEnv, processesMentioning, runStart } from './support/start-run';

describe('npm start -- --s3 (the S3 gateway in the stack)', function () {
  this.timeout(180_000);
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-start-s3-'));
    env = { ...(await privateStackEnv(dataDir, ['BATCH_S3_PORT'])) };
    delete process.env.TEMPORAL_ADDRESS;
    delete process.env.BATCH_STORAGE;
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('runs the thumbnailer on media in the bucket, says where outputs are, and restarts a SIGKILLed gateway', async () => {
    const videos = (await sampleVideos()).slice(0, 2);
    const gatewayDir = path.join(dataDir, 's3');
    const endpoint = `http://127.0.0.1:${env.BATCH_S3_PORT}`;
    const seen: { outputs: string[]; uploads: string[]; afterRestart?: boolean; restartedPid?: number } = {
      outputs: [],
      uploads: [],
    };
    const run = await runStart(['--s3', '--no-flows', '--run', 's3demo', ...videos], env, async (output) => {
      const store = new S3ObjectStore(runningGatewayStorage(gatewayDir, endpoint, 'batch').s3!);
      try {
        seen.outputs = (await store.list('outputs/thumbnailer/s3demo/')).objects.map((o) => o.key);
        seen.uploads = (await store.list('uploads/')).objects.map((o) => o.key);
        const [gateway] = processesMentioning(path.join(gatewayDir, 'root'));
        assert.ok(gateway, 'the gateway runs over <dataDir>/s3/root');
        assert.ok(gateway.line.includes(`--port 127.0.0.1:${env.BATCH_S3_PORT}`), `loopback only: ${gateway.line}`);
        assert.doesNotMatch(gateway.line, /SECRET|credentials/i, 'no credential on its command line');
        process.kill(gateway.pid, 'SIGKILL');
        await waitFor(
          'the gateway to be restarted',
          async () => /the S3 gateway is running again/.test(output()),
          60_000,
        );
        seen.restartedPid = processesMentioning(path.join(gatewayDir, 'root'))[0]?.pid;
        // Same port, same credentials, same objects.
        seen.afterRestart = (await store.head(seen.outputs[0])) !== undefined;
      } finally {
        store.client.destroy();
      }
    });
    assert.match(run.output, /Starting the S3 gateway \(Versity\) on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(run.output, /Uploaded 2 input files \(.* MB\) to s3:\/\/batch\/uploads\//);
    assert.match(run.output, /Thumbnailer run: 2 items, 2 succeeded, 0 failed/, run.output);
    assert.match(run.output, /Outputs: +s3:\/\/batch\/outputs\/thumbnailer\/s3demo\/<item>\//);
    assert.match(run.output, /Results: +s3:\/\/batch\/results\/thumbnailer\/s3demo\/part-NNNNN\.jsonl/);
    assert.equal(run.output.match(/^Results:/gm)?.length, 1, 'one Results line');
    assert.match(run.output, /Stopping the API, workers, the S3 gateway and the Temporal server/);
    assert.match(run.output, /Contact sheet: s3:\/\/batch\/outputs\/thumbnailer\/s3demo\/contact-sheet-001\.jpg/);
    assert.ok(
      run.output.includes(`files in ${path.join(gatewayDir, 'root', 'batch', 'outputs', 'thumbnailer', 's3demo')}`),
    );
    assert.match(run.output, /the S3 gateway exited \(signal SIGKILL\); restarting \(1 of 5\)/);
    assert.doesNotMatch(run.output, /secretAccessKey|BATCH_S3_SECRET_ACCESS_KEY=/, 'the secret is not printed');

    assert.equal(seen.uploads.length, 2, 'each input uploaded once, content-addressed');
    for (const key of seen.uploads) assert.match(key, /^uploads\/[0-9a-f]{64}\.mp4$/);
    const items = new Set(
      seen.outputs
        .map((key) => key.split('/')[3])
        .filter((part) => !part.startsWith('contact') && !part.startsWith('.')),
    );
    assert.equal(items.size, 2, `one output folder per item: ${seen.outputs.join(', ')}`);
    assert.ok(seen.restartedPid, 'a new gateway runs');
    assert.equal(seen.afterRestart, true, 'objects written before the restart are served after it');
    // The bucket is a folder of the gateway: the outputs are files a person can open.
    const folder = path.join(gatewayDir, 'root', 'batch', 'outputs', 'thumbnailer', 's3demo');
    assert.ok(fs.readdirSync(folder).length >= 2);
    assert.equal(await portOpen(Number(env.BATCH_S3_PORT)), false, 'Ctrl-C stopped the gateway');
    assert.deepEqual(processesMentioning(dataDir), [], 'no process left behind');
  });

  it('stops before starting anything when BATCH_STORAGE=s3 names a bucket that does not exist', async () => {
    // An S3 service of the environment: a gateway this test runs (so npm start starts none).
    const gateway = await startS3Gateway({
      dir: path.join(dataDir, 'other-s3'),
      port: await freePort(),
      buckets: ['batch'],
    });
    try {
      const s3 = gateway.storage.s3;
      const run = await runStart(['--once', '--no-flows'], {
        ...env,
        BATCH_STORAGE: 's3',
        BATCH_S3_ENDPOINT: gateway.endpoint,
        BATCH_S3_BUCKET: 'no-such-bucket',
        BATCH_S3_ACCESS_KEY_ID: s3.accessKeyId!,
        BATCH_S3_SECRET_ACCESS_KEY: s3.secretAccessKey!,
      });
      assert.equal(run.code, 1, run.output);
      assert.match(run.output, /bucket no-such-bucket does not exist\. Create it, or set BATCH_S3_BUCKET/);
      assert.doesNotMatch(run.output, /Starting the Temporal dev server|Starting the S3 gateway|Started thumbnailer/);
    } finally {
      await gateway.stop();
    }
  });
});
