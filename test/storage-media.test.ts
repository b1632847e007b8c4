/**
 * The media flows with nothing shared between worker hosts but Temporal and a real S3 server (the
 * Versity gateway): each host is a worker process with its own private data and scratch folder
 * (test/support/hosts.ts).
 *
 * Thumbnailer: videos uploaded to the bucket; host A (`workflows,video`) extracts frames, host B
 * (`image`) makes thumbnails and contact sheets — consecutive stages of every item on different
 * hosts, B reading A's frame by its s3:// URI. Outputs are in the bucket, payloads carry URIs,
 * neither host keeps anything in scratch.
 *
 * Transcode: the upload in the bucket, probe on host A, A SIGKILLed while it holds a rendered but
 * unpublished rendition mid-ladder, host B finishes the run: the bucket holds exactly one of each
 * rendition and the manifest, every one readable by ffprobe, no multipart upload left open, and
 * the rendition A had published is kept, not made again.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { readResultLines } from '../src/activities/pipeline/results';
import type { ResultLine } from '../src/activities/pipeline/results-types';
import { readRendition } from '../src/activities/transcode/read-back';
import { ladderFor, RENDITIONS } from '../src/activities/transcode/renditions';
import type { RenditionReport } from '../src/activities/transcode/upload-item';
import { startThumbnailerRun } from '../src/client/thumbnailer';
import { startTranscodeRun, uploadFiles } from '../src/client/transcode';
import { BlobStore } from '../src/storage/blob-store';
import { generateSampleVideos } from '../src/devstack/sample-videos';
import { waitFor } from '../src/infra/wait';
import { removeOrphanScratch } from '../src/storage/scratch';
import { storage, useStorage } from '../src/storage/storage';
import { collect, ListSource } from '../src/sources';
import { buildWorkflowBundle } from '../src/workers/workflow-bundle';
import { isolatedConfig } from './support/config';
import { startHost, TestHost } from './support/hosts';
import { outputFolder, sampleVideos } from './support/media';
import { startTestS3, TestS3 } from './support/s3';
import { sharedDevServer } from './support/servers';

async function allKeys(s3: TestS3, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let after: string | undefined;
  do {
    const page = await s3.store.list(prefix, { after });
    keys.push(...page.objects.map((o) => o.key));
    after = page.next;
  } while (after);
  return keys;
}

async function resultLines(dir: string): Promise<ResultLine[]> {
  const lines: ResultLine[] = [];
  for await (const line of readResultLines(dir)) lines.push(line);
  return lines;
}

const scratchLeft = (host: TestHost) => host.files().filter((f) => f.startsWith('scratch/'));

describe('media flows on S3 with workers on separate hosts', function () {
  this.timeout(240_000);
  let env: TestWorkflowEnvironment;
  let s3: TestS3;
  let bundle: string;
  const hosts: TestHost[] = [];
  const localStore = storage();
  const host = async (...args: Parameters<typeof startHost>) => {
    const started = await startHost(...args);
    hosts.push(started);
    return started;
  };

  before(async () => {
    env = await sharedDevServer();
    s3 = await startTestS3('media');
    bundle = await buildWorkflowBundle();
    // This process reads the runs' results parts from the bucket, as the CLI does with BATCH_STORAGE=s3.
    useStorage(s3.store);
  });
  after(async () => {
    useStorage(localStore);
    await Promise.all(hosts.map((h) => h.worker.stop()));
    await s3?.stop();
  });

  it('thumbnailer: frames on one host, thumbnails and contact sheet on the other, all in the bucket, scratch empty', async () => {
    const config = isolatedConfig(env.address);
    const bucket = s3.gateway.storage.s3!.bucket;
    const videos = await sampleVideos();
    const items = [];
    for (const video of videos.slice(0, 3)) {
      const put = await s3.store.putFile(`videos/${path.basename(video)}`, video);
      items.push({ id: path.basename(video, path.extname(video)), payload: { path: put.uri } });
    }
    const a = await host({
      name: 'thumbs-a',
      config,
      storageEnv: s3.env,
      roles: 'workflows,video',
      workflowBundlePath: bundle,
    });
    const b = await host({ name: 'thumbs-b', config, storageEnv: s3.env, roles: 'image', workflowBundlePath: bundle });
    const runName = `s3-thumbs-${process.pid}`;
    const handle = await startThumbnailerRun(env.client, config, { runName, items });
    const result = await handle.result();

    assert.deepEqual([result.completed, result.deadLettered], [items.length, 0], JSON.stringify(result.deadLetters));
    const prefix = `s3://${bucket}/outputs/thumbnailer/${runName}`;
    for (const line of await resultLines(result.results!.dir)) {
      const frame = line.data!.frame as { path: string };
      const thumbnails = line.data!.thumbnails as { path: string; format: string }[];
      assert.equal(frame.path, `${prefix}/${line.id}/frame.png`, 'the frame travels as its s3:// URI');
      assert.deepEqual(
        thumbnails.map((t) => t.path),
        [`${prefix}/${line.id}/thumb-320.jpg`, `${prefix}/${line.id}/thumb-640.webp`],
      );
    }
    const keys = (await allKeys(s3, `outputs/thumbnailer/${runName}/`)).filter((k) => !k.includes('/.cache/'));
    const expected = items.flatMap(({ id }) =>
      ['frame.png', 'thumb-320.jpg', 'thumb-640.webp'].map((f) => `outputs/thumbnailer/${runName}/${id}/${f}`),
    );
    assert.deepEqual(keys, [`outputs/thumbnailer/${runName}/contact-sheet-001.jpg`, ...expected].sort());
    const sheet = await sharp(
      (await s3.store.getBytes(`outputs/thumbnailer/${runName}/contact-sheet-001.jpg`))!,
    ).metadata();
    assert.equal(sheet.format, 'jpeg');
    const thumb = await sharp((await s3.store.getBytes(expected[1]))!).metadata();
    assert.deepEqual([thumb.format, thumb.width], ['jpeg', 320]);

    // Each stage ran where its queue is polled: extract-frame (video queue) only on A, make-thumbnails and the
    // contact sheets (image queue) only on B, so B read every frame A made by its URI.
    const polled = (h: TestHost) =>
      [...fs.readFileSync(h.logFile, 'utf8').matchAll(/"taskQueue":"([^"]+)","state":"RUNNING"/g)].map((m) => m[1]);
    assert.deepEqual(polled(a).sort(), [config.queues.workflow, config.queues.video].sort());
    assert.deepEqual(polled(b), [config.queues.image]);
    // Nothing of the media on either host's disk: scratch emptied after every item, no outputs folder.
    for (const h of [a, b]) {
      assert.deepEqual(scratchLeft(h), [], `${h.name}'s scratch is empty`);
      assert.deepEqual(
        h.files().filter((f) => f.startsWith('outputs/')),
        [],
        `${h.name} keeps no outputs`,
      );
    }
    await Promise.all([a.worker.stop(), b.worker.stop()]);
  });

  it('transcode: host running the render SIGKILLed mid-ladder, the other finishes, exactly one of each rendition', async () => {
    const config = isolatedConfig(env.address);
    const dir = outputFolder('storage-media-transcode');
    const [video] = await generateSampleVideos(dir, () => undefined, [
      { source: 'testsrc2', width: 640, height: 360, seconds: 2, fps: 15 },
    ]);
    const store = new BlobStore(s3.store);
    const [upload] = await uploadFiles(store, await collect(new ListSource([video])));
    assert.ok(await s3.store.head(store.keyOf(upload.uri)), 'the upload is in the bucket under its hash');

    // Workflows on a host of their own: killing the video host kills no workflow worker.
    await host({ name: 'tc-w', config, storageEnv: s3.env, roles: 'workflows', workflowBundlePath: bundle });
    const a = await host({
      name: 'tc-a',
      config,
      storageEnv: s3.env,
      roles: 'video',
      workflowBundlePath: bundle,
      env: { BATCH_FAULT_PAUSE: 'transcode-render-before-publish' },
    });
    const handle = await startTranscodeRun(env.client, config, {
      runName: `s3-crash-${process.pid}`,
      uploads: [upload],
    });
    // A holds the ladder's second rendition, rendered in its scratch and not published; the first is in the bucket.
    await waitFor(
      'host A at the fault point',
      async () => fs.readFileSync(a.logFile, 'utf8').includes('fault point transcode-render-before-publish reached'),
      120_000,
      200,
    );
    const folder = `renditions/${upload.sha256}/`;
    const ladder = ladderFor({ width: 640, height: 360 }).map((r) => r.rendition);
    assert.deepEqual(ladder, ['source-size', 'preview-gif', 'poster']);
    const atKill = await allKeys(s3, folder);
    assert.deepEqual(atKill, [`${folder}${RENDITIONS[ladder[0]].file}`], 'only the first rendition was published');
    assert.ok(scratchLeft(a).length > 0, 'A holds its work in scratch');
    a.worker.kill();
    await a.worker.exited;

    const b = await host({ name: 'tc-b', config, storageEnv: s3.env, roles: 'video', workflowBundlePath: bundle });
    const result = await handle.result();
    assert.deepEqual([result.completed, result.deadLettered], [1, 0], JSON.stringify(result.deadLetters));

    assert.deepEqual(
      await allKeys(s3, folder),
      [...ladder.map((r) => `${folder}${RENDITIONS[r].file}`), `${folder}manifest.json`].sort(),
      'exactly one object per rendition and the manifest',
    );
    const open = await s3.store.client.send(
      new ListMultipartUploadsCommand({ Bucket: s3.gateway.storage.s3!.bucket, Prefix: folder }),
    );
    assert.deepEqual(open.Uploads ?? [], [], 'no multipart upload left open (no partial object)');
    const check = outputFolder('storage-media-transcode-check');
    for (const r of ladder) {
      const file = path.join(check, RENDITIONS[r].file);
      await s3.store.download(`${folder}${RENDITIONS[r].file}`, file);
      const read = await readRendition(file, r, store.uriOf(`${folder}${RENDITIONS[r].file}`));
      assert.equal(read.codec, RENDITIONS[r].codec, `${r} is readable by ffprobe`);
    }
    const [line] = await resultLines(result.results!.dir);
    const reports = line.data!.renditions as RenditionReport[];
    assert.deepEqual(
      reports.map((r) => [r.rendition, r.reused]),
      ladder.map((r, i) => [r, i === 0]),
      'the rendition A published is kept by B, the rest made once',
    );
    const manifest = JSON.parse((await s3.store.getBytes(`${folder}manifest.json`))!.toString()) as {
      renditions: { rendition: string }[];
    };
    assert.deepEqual(
      manifest.renditions.map((r) => r.rendition),
      ladder,
    );
    // B's scratch is empty; the dead host's is an orphan that a worker start there removes.
    assert.deepEqual(scratchLeft(b), []);
    assert.equal(await removeOrphanScratch(a.dataDir), 1);
    assert.deepEqual(scratchLeft(a), []);
  });
});
