/**
 * The S3 gateway restarted mid-run, with workers on two hosts that share nothing but Temporal and
 * the object store (host A: workflows + ffmpeg, host B: sharp + results). While the thumbnailer
 * runs on videos in the bucket, the gateway is SIGKILLed and started again on the same port and
 * folder (its credentials.json is reused). Activities that hit the outage retry; the run completes
 * with nothing lost (every item has each of its outputs and a result line) and nothing duplicated
 * (exactly the expected objects, one result line per item), and no host keeps scratch leftovers.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { startThumbnailerRun } from '../src/client/thumbnailer';
import type { BatchConfig } from '../src/infra/config';
import { S3Gateway, startS3Gateway } from '../src/devstack/s3-gateway';
import { uploadInputs } from '../src/devstack/upload-inputs';
import { sleep, waitFor } from '../src/infra/wait';
import { itemIdForPath } from '../src/sources/item-id';
import { buildWorkflowBundle } from '../src/workers/workflow-bundle';
import { isolatedConfig } from './support/config';
import { startHost, TestHost } from './support/hosts';
import { sampleVideos } from './support/media';
import { sharedDevServer } from './support/servers';
import { startTestS3, TestS3, allKeys } from './support/s3';

describe('storage faults: the S3 gateway restarted mid-run', function () {
  this.timeout(180_000);
  let s3: TestS3;
  let restarted: S3Gateway | undefined;
  let hosts: TestHost[] = [];
  let client: Client;
  let config: BatchConfig;

  before(async () => {
    const env = await sharedDevServer();
    client = env.client;
    config = isolatedConfig(env.address);
    s3 = await startTestS3('faults');
    const bundle = await buildWorkflowBundle();
    const common = { config, storageEnv: s3.env, workflowBundlePath: bundle, env: { BATCH_LOG_FORMAT: 'text' } };
    hosts = [
      await startHost({ ...common, name: 'faults-a', roles: 'workflows,video' }),
      await startHost({ ...common, name: 'faults-b', roles: 'image,stages' }),
    ];
  });
  after(async () => {
    await Promise.all(hosts.map((h) => h.worker.stop()));
    await restarted?.stop();
    await s3?.stop();
  });

  it('retries through the outage: every item has its outputs and one result line, no object twice, no scratch left', async () => {
    const videos = await sampleVideos();
    // Two items per video (distinct IDs): enough work that the outage falls in the middle of the run.
    const local = videos.flatMap((file) => [
      { id: itemIdForPath(file), payload: { path: file } },
      { id: `${itemIdForPath(file)}-again`, payload: { path: file } },
    ]);
    const items = await uploadInputs(local, s3.store, () => undefined);
    const run = 'gateway-restart';
    const handle = await startThumbnailerRun(client, config, { runName: run, items, concurrency: 1 });

    // Mid-run: some item has its thumbnails, not every item.
    const outputs = `outputs/thumbnailer/${run}/`;
    const thumbsNow = async () => (await allKeys(s3.store, outputs)).filter((k) => /\/[^/]+\/thumb-320\.jpg$/.test(k));
    await waitFor('the first item to have its thumbnails', async () => (await thumbsNow()).length > 0, 60_000, 100);
    const before = (await thumbsNow()).length;
    assert.ok(before < items.length, `the run is still going when the gateway stops (${before} of ${items.length})`);

    const { endpoint } = s3.gateway;
    const port = Number(new URL(endpoint).port);
    // A crash, not a clean stop: SIGKILL, whatever request it was serving is cut off.
    s3.gateway.process.kill();
    await s3.gateway.process.exited;
    await sleep(3000);
    restarted = await startS3Gateway({
      dir: path.dirname(s3.gateway.logFile),
      port,
      buckets: [s3.gateway.storage.s3.bucket],
    });
    assert.equal(restarted.endpoint, endpoint);
    assert.deepEqual(restarted.storage.s3, s3.gateway.storage.s3, 'same folder: same credentials and bucket');

    const result = await handle.result();
    assert.equal(result.deadLettered, 0, JSON.stringify(result.deadLetters));
    assert.equal(result.results?.counts.completed, items.length);

    // Nothing lost, nothing twice: exactly the three outputs of each item and one contact sheet.
    const keys = (await allKeys(s3.store, outputs)).filter((k) => !k.slice(outputs.length).startsWith('.'));
    const expected = [
      ...items.flatMap((item) =>
        ['frame.png', 'thumb-320.jpg', 'thumb-640.webp'].map((f) => `${outputs}${item.id}/${f}`),
      ),
      `${outputs}contact-sheet-001.jpg`,
    ].sort();
    assert.deepEqual(keys.sort(), expected);
    for (const key of keys) assert.ok((await s3.store.head(key))!.bytes > 0, `${key} is whole`);

    const parts = (await allKeys(s3.store, `results/thumbnailer/${run}/`)).filter((k) => /part-\d+\.jsonl$/.test(k));
    assert.ok(parts.length > 0, 'results parts in the bucket');
    const lines = (
      await Promise.all(parts.map(async (k) => (await s3.store.getBytes(k))!.toString('utf8').trim().split('\n')))
    )
      .flat()
      .map((line) => JSON.parse(line) as { id: string; status: string });
    assert.deepEqual(lines.map((l) => l.id).sort(), items.map((i) => i.id).sort(), 'one result line per item');
    assert.ok(lines.every((l) => l.status === 'completed'));

    // The outage was felt: some activity failed on the store and was retried.
    const logs = hosts.map((h) => fs.readFileSync(h.logFile, 'utf8'));
    assert.match(logs.join('\n'), /StorageUnreachable: Cannot .* the S3 endpoint is unreachable/);
    for (const host of hosts) {
      assert.deepEqual(
        host.files().filter((f) => f.startsWith('scratch/')),
        [],
        `${host.name} keeps no scratch leftovers`,
      );
    }
  });
});
