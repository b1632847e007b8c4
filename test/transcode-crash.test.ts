/**
 * Worker failure during transcoding (the transcode pipeline on the engine): the worker process is
 * SIGKILLed while ffmpeg renders an upload's ladder and a new one is started. Temporal retries what
 * the dead worker held (heartbeat timeout); every upload ends with its full ladder, each file
 * readable by ffprobe, no partial files, and the renditions finished before the kill are kept, not
 * rendered again (content-addressed outputs, checked by ffprobe).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { readResultLines } from '../src/activities/pipeline/results';
import type { RenditionReport } from '../src/activities/transcode/upload-item';
import { startTranscodeRun, uploadFiles } from '../src/client/transcode';
import { BlobStore } from '../src/storage/blob-store';
import { repoRoot } from '../src/infra/paths';
import { generateSampleVideos } from '../src/devstack/sample-videos';
import { waitFor } from '../src/infra/wait';
import { startWorkerProcess } from '../src/infra/worker-process';
import { collect, ListSource } from '../src/sources';
import { buildWorkflowBundle } from '../src/workers/workflow-bundle';
import { isolatedConfig } from './support/config';
import { listFiles } from './support/media';
import { sharedDevServer } from './support/servers';

describe('transcode: worker killed while ffmpeg renders', function () {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await sharedDevServer();
  });

  it('completes every upload with its whole ladder after a SIGKILL and a restart, leaving no partial file', async () => {
    const config = isolatedConfig(env.address);
    const dataDir = path.join(repoRoot, 'test-output', 'transcode-crash');
    fs.rmSync(dataDir, { recursive: true, force: true });
    const logDir = path.join(dataDir, 'logs');
    const store = new BlobStore(path.join(dataDir, 'blobs'));
    // Long enough (a few seconds of 720p encoding each) for the kill to land mid-ladder.
    const videos = await generateSampleVideos(path.join(dataDir, 'inputs'), () => undefined, [
      { source: 'testsrc2', width: 1280, height: 720, seconds: 6, fps: 25 },
      { source: 'mandelbrot', width: 480, height: 480, seconds: 4, fps: 25 },
    ]);
    const uploads = await uploadFiles(store, await collect(new ListSource(videos)));
    const bundle = await buildWorkflowBundle();
    const worker = (name: string) =>
      startWorkerProcess({
        name,
        config,
        workflowBundlePath: bundle,
        logFile: path.join(logDir, `${name.replace(/\s/g, '-')}.log`),
        env: { ...process.env, BATCH_DATA_DIR: dataDir },
      });

    const first = await worker('worker A');
    const handle = await startTranscodeRun(env.client, config, { runName: `crash-${process.pid}`, uploads });
    const renditionsDir = path.join(dataDir, 'blobs', 'renditions');
    const written = () => (fs.existsSync(renditionsDir) ? listFiles(renditionsDir) : []);
    // Killed once the first rendition is written and others are still being rendered.
    await waitFor('the first rendition', async () => written().some((f) => !f.includes('.tmp')), 120_000, 50);
    first.kill();
    await first.exited;
    const atKill = written().filter((f) => f.endsWith('manifest.json')).length;
    assert.ok(atKill < uploads.length, 'killed before every upload was done');
    const finishedAtKill = new Map(
      written()
        .filter((f) => !path.basename(f).startsWith('.') && !f.endsWith('manifest.json'))
        .map((f) => [f, fs.statSync(path.join(renditionsDir, f)).ino]),
    );

    await worker('worker B');
    const result = await handle.result();

    assert.deepEqual([result.completed, result.deadLettered], [uploads.length, 0], JSON.stringify(result.deadLetters));
    const expected: Record<string, string[]> = {
      '1280x720': ['source-size', '480p', 'preview-gif', 'poster'],
      '480x480': ['480p', 'preview-gif', 'poster'],
    };
    for await (const line of readResultLines(result.results!.dir)) {
      assert.equal(line.status, 'completed', JSON.stringify(line));
      const source = line.data!.source as { width: number; height: number };
      const renditions = line.data!.renditions as RenditionReport[];
      assert.deepEqual(
        renditions.map((r) => r.rendition),
        expected[`${source.width}x${source.height}`],
        line.id,
      );
      for (const r of renditions) {
        assert.ok(r.bytes > 0 && r.width > 0 && r.height > 0, `${line.id} ${r.rendition} is readable`);
        if (r.rendition !== 'poster') assert.ok((r.durationSeconds ?? 0) > 1, `${r.rendition} is whole`);
      }
    }
    for (const [file, ino] of finishedAtKill) {
      assert.equal(fs.statSync(path.join(renditionsDir, file)).ino, ino, `${file}, finished before the kill, was kept`);
    }
    // Exactly the renditions and the manifest per upload: no temporary or partial file left.
    const perUpload = new Map<string, string[]>();
    for (const file of written()) {
      const [key, ...rest] = file.split('/');
      perUpload.set(key, [...(perUpload.get(key) ?? []), rest.join('/')]);
    }
    assert.deepEqual(
      [...perUpload.values()].map((files) => files.sort()).sort((a, b) => b.length - a.length),
      [
        ['480p.mp4', 'manifest.json', 'poster.jpg', 'preview.gif', 'source-size.mp4'],
        ['480p.mp4', 'manifest.json', 'poster.jpg', 'preview.gif'],
      ],
    );
  });
});
