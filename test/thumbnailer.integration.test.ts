/**
 * The thumbnailer end to end on a real Temporal dev server with real ffmpeg and sharp: outputs
 * exist with the expected sizes and formats, the contact sheet is a valid image, bad input is
 * set aside with a clear reason while the rest succeed, and the run is findable by its search
 * attributes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import * as batchActivities from '../src/activities/batch';
import * as mediaActivities from '../src/activities/media';
import type { ThumbnailFile } from '../src/activities/media/types';
import { startThumbnailerRun } from '../src/client/thumbnailer-run';
import { BatchPipeline, BatchRun, BatchStage } from '../src/core/search-attributes';
import { collect, ListSource } from '../src/sources';
import { isolatedConfig } from './support/config';
import { listFiles, outputFolder, sampleVideos } from './support/media';
import { sharedDevServer } from './support/servers';
import { withWorkers } from './support/workers';

describe('thumbnailer on the dev server with real ffmpeg and sharp', function () {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await sharedDevServer();
  });

  it('makes thumbnails of every video, sets bad files aside with their reasons, and makes a contact sheet', async () => {
    const config = isolatedConfig(env.address);
    const outputDir = outputFolder('thumbnailer-integration');
    const inputsDir = outputFolder('thumbnailer-integration-inputs');
    const corrupt = path.join(inputsDir, 'corrupt.mp4');
    fs.writeFileSync(
      corrupt,
      Buffer.concat([Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70]), Buffer.alloc(4000, 7)]),
    );
    const notVideo = path.join(inputsDir, 'readme.txt');
    fs.writeFileSync(notVideo, 'just some text\n');
    const videos = await sampleVideos();
    const items = await collect(new ListSource([...videos, corrupt, notVideo]));

    const { result, handle } = await withWorkers(
      env,
      config,
      { video: mediaActivities, image: { ...mediaActivities, ...batchActivities } },
      async () => {
        const handle = await startThumbnailerRun(env.client, config, {
          runName: 'integration',
          items,
          outputDir,
          concurrency: 3,
        });
        return { result: await handle.result(), handle };
      },
    );

    assert.equal(result.progress.total, videos.length + 2);
    assert.equal(result.progress.succeeded, videos.length);
    assert.equal(result.progress.failed, 2);

    for (const video of videos) {
      const outcome = result.outcomes.find(
        (o) => o.status === 'succeeded' && items.find((i) => i.id === o.itemId)?.payload.path === video,
      );
      assert.ok(outcome && outcome.status === 'succeeded', `${path.basename(video)} succeeded`);
      const source = await sharp(outcome.result.frame.framePath).metadata();
      for (const [index, expected] of [
        { width: 320, format: 'jpeg' },
        { width: 640, format: 'webp' },
      ].entries()) {
        const thumb: ThumbnailFile = outcome.result.thumbnails[index];
        const meta: sharp.Metadata = await sharp(thumb.path).metadata();
        assert.equal(meta.format, expected.format);
        assert.equal(meta.width, expected.width);
        const expectedHeight = Math.round((expected.width * source.height!) / source.width!);
        assert.ok(
          Math.abs(meta.height! - expectedHeight) <= 1,
          `${thumb.path}: height ${meta.height} ≈ ${expectedHeight}`,
        );
      }
      assert.ok(outcome.result.frame.atSeconds > 0, 'the frame is not the first one');
    }

    const failures = Object.fromEntries(
      result.outcomes.flatMap((o) =>
        o.status === 'failed' ? [[items.find((i) => i.id === o.itemId)!.payload.path, o.failure]] : [],
      ),
    );
    assert.equal(failures[corrupt].type, 'InvalidInput');
    assert.match(failures[corrupt].message, /corrupt\.mp4/);
    assert.equal(failures[notVideo].type, 'InvalidInput');
    assert.match(failures[notVideo].message, /readme\.txt/);
    const setAside = listFiles(path.join(outputDir, 'failed'));
    assert.equal(setAside.length, 2);
    const record = JSON.parse(fs.readFileSync(path.join(outputDir, 'failed', setAside[0]), 'utf8'));
    assert.equal(record.failure.type, 'InvalidInput');

    assert.ok(result.contactSheet);
    const sheet = await sharp(result.contactSheet.path).metadata();
    assert.equal(sheet.format, 'jpeg');
    assert.equal(sheet.width, result.contactSheet.width);
    assert.equal(result.contactSheet.tiles, videos.length);
    assert.equal(listFiles(outputDir).filter((f) => f.includes('.tmp')).length, 0, 'no temp files left');

    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(BatchPipeline), 'thumbnailer');
    assert.equal(description.typedSearchAttributes.get(BatchRun), 'integration');
    assert.equal(description.typedSearchAttributes.get(BatchStage), 'done');
  });
});
