/**
 * The thumbnailer end to end on a real Temporal dev server with real ffmpeg and sharp, as a
 * pipeline (src/pipelines/thumbnailer.ts): outputs exist with the expected sizes and formats,
 * bad input is dead-lettered with a clear reason while the rest succeed, every item has its line
 * in the results parts, the contact sheet is a valid image, the summary groups failures by reason,
 * and the run is findable by its search attributes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { readResultLines } from '../src/activities/pipeline/results';
import type { ResultLine } from '../src/activities/pipeline/results-types';
import type { ThumbnailFile } from '../src/activities/thumbnailer/types';
import { formatThumbnailerSummary } from '../src/cli/flows/thumbnailer-summary';
import { thumbnailerFlow } from '../src/cli/flows/thumbnailer';
import { startThumbnailerRun, thumbnailerOutputDir } from '../src/client/thumbnailer';
import { dataDir } from '../src/infra/paths';
import { BatchPipeline, BatchRun, BatchStage } from '../src/core/search-attributes';
import { collect, ListSource } from '../src/sources';
import { isolatedConfig } from './support/config';
import { listFiles, outputFolder, sampleVideos } from './support/media';
import { withPipelineWorkers } from './support/pipeline-workers';
import { sharedDevServer } from './support/servers';

describe('thumbnailer on the dev server with real ffmpeg and sharp', function () {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await sharedDevServer();
  });

  it('makes thumbnails of every video, dead-letters bad files with their reasons, and makes a contact sheet', async () => {
    const config = isolatedConfig(env.address);
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
    const runName = `integration-${Date.now()}`;

    const { result, handle } = await withPipelineWorkers(
      env,
      config,
      [config.queues.video, config.queues.image],
      async () => {
        const handle = await startThumbnailerRun(env.client, config, { runName, items, concurrency: 3 });
        return { result: await handle.result(), handle };
      },
    );

    assert.equal(result.total, videos.length + 2);
    assert.equal(result.completed, videos.length);
    assert.equal(result.deadLettered, 2);
    assert.ok(result.results, 'the result points to the results parts');
    const lines: ResultLine[] = [];
    for await (const line of readResultLines(result.results.dir)) lines.push(line);
    assert.equal(lines.length, items.length, 'one line per item');
    const byPath = new Map(lines.map((l) => [items.find((i) => i.id === l.id)!.payload.path, l]));

    for (const video of videos) {
      const line = byPath.get(video)!;
      assert.equal(line.status, 'completed', `${path.basename(video)} succeeded: ${JSON.stringify(line)}`);
      const frame = line.data!.frame as { path: string; atSeconds: number };
      const source = await sharp(frame.path).metadata();
      const thumbnails = line.data!.thumbnails as ThumbnailFile[];
      for (const [index, expected] of [
        { width: 320, format: 'jpeg' },
        { width: 640, format: 'webp' },
      ].entries()) {
        const meta = await sharp(thumbnails[index].path).metadata();
        assert.equal(meta.format, expected.format);
        assert.equal(meta.width, expected.width);
        const expectedHeight = Math.round((expected.width * source.height!) / source.width!);
        assert.ok(Math.abs(meta.height! - expectedHeight) <= 1, `height ${meta.height} ≈ ${expectedHeight}`);
      }
      assert.ok(frame.atSeconds > 0, 'the frame is not the first one');
    }

    for (const bad of [corrupt, notVideo]) {
      const line = byPath.get(bad)!;
      assert.deepEqual([line.status, line.stage, line.error?.type], ['deadLettered', 'extract-frame', 'InvalidInput']);
      assert.ok(line.error?.message.includes(path.basename(bad)), line.error?.message);
      assert.equal(line.input?.data.path, bad, 'the input, for a redrive');
    }

    const sheets = result.reports?.['contact-sheets'];
    assert.equal(sheets?.files.length, 1);
    assert.equal(path.basename(sheets.files[0]), 'contact-sheet-001.jpg');
    assert.deepEqual(sheets.notes, []);
    const sheet = await sharp(sheets.files[0]).metadata();
    assert.equal(sheet.format, 'jpeg');
    const outputDir = thumbnailerOutputDir(runName);
    assert.equal(listFiles(outputDir).filter((f) => f.includes('.tmp')).length, 0, 'no temp files left');

    const summary = formatThumbnailerSummary(result, { webUi: 'http://ui', outputDir });
    assert.match(summary, new RegExp(`${videos.length} succeeded, 2 failed`));
    // One reason (ffprobe's words and the paths differ, the pattern does not): one line, both items.
    assert.match(
      summary,
      /FAILED {2}2 items at extract-frame \[InvalidInput\], e\.g\. (corrupt-mp4-\w+, readme-txt-\w+|readme-txt-\w+, corrupt-mp4-\w+): Cannot read .* as a video/,
    );
    assert.match(summary, /Results: .*results\/thumbnailer\/integration-\d+\/part-NNNNN\.jsonl \(1 parts/);

    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(BatchPipeline), 'thumbnailer');
    assert.equal(description.typedSearchAttributes.get(BatchRun), runName);
    assert.equal(description.typedSearchAttributes.get(BatchStage), 'done');
  });

  it('runs from the command line: run thumbnailer <videos> --run NAME prints the start, then the summary', async () => {
    const config = isolatedConfig(env.address);
    const videos = await sampleVideos();
    const runName = `cli-${Date.now()}`;
    const lines: string[] = [];
    await withPipelineWorkers(env, config, [config.queues.video, config.queues.image], () =>
      thumbnailerFlow.run([...videos, '--run', runName, '--concurrency', '2'], {
        client: env.client,
        config,
        dataDir,
        log: (line) => lines.push(line),
      }),
    );
    const text = lines.join('\n');
    assert.match(text, new RegExp(`Started thumbnailer/${runName} with ${videos.length} items\\. Web UI: http`));
    assert.match(text, new RegExp(`Thumbnailer run: ${videos.length} items, ${videos.length} succeeded, 0 failed`));
    assert.match(text, /Contact sheet: .*contact-sheet-001\.jpg/);
    assert.ok(fs.existsSync(thumbnailerOutputDir(runName)), 'the outputs are where the summary says');
    assert.throws(() => thumbnailerFlow.parse(['--concurrency', '0', 'a.mp4']), /Expected a whole number ≥ 1/);
  });
});
