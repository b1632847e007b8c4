/**
 * 10,000 inputs in one run (issue 11: "the main job fails at 4,000 videos"): the thumbnailer and
 * image tagging each take 10,000 real media items (a few tiny distinct files behind 10,000 IDs)
 * plus bad ones, on the real dev server. Each run completes; every item has its line in the
 * results parts; failures come grouped by reason in a few summary lines, not one per item; the
 * thumbnailer makes several contact sheets (at most 1,000 tiles each) instead of failing; and
 * the largest event of every history of the run (run, partitions, their children), fetched from
 * the server and measured, stays under 256 KB.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { readResultLines } from '../src/activities/pipeline/results';
import { formatThumbnailerSummary } from '../src/cli/flows/thumbnailer-summary';
import { runImageTagging } from '../src/cli/flows/image-tagging';
import { startThumbnailerRun, thumbnailerOutputDir } from '../src/client/thumbnailer';
import type { WorkItem } from '../src/core/work-item';
import { ffmpegPath, runMediaTool } from '../src/activities/media/ffmpeg';
import { isolatedConfig } from './support/config';
import { measureHistories } from './support/history-sizes';
import { outputFolder } from './support/media';
import { withPipelineWorkers } from './support/pipeline-workers';
import { sharedDevServer } from './support/servers';

const items = 10_000;
const maxEventBytes = 256 * 1024;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

/** Four tiny H.264 videos (64×36, 1 s) from ffmpeg's test sources. */
async function tinyVideos(dir: string): Promise<string[]> {
  const sources = ['testsrc', 'testsrc2', 'smptebars', 'rgbtestsrc'];
  return Promise.all(
    sources.map(async (source) => {
      const out = path.join(dir, `${source}.mp4`);
      const args = ['-y', '-v', 'error', '-f', 'lavfi', '-i', `${source}=size=64x36:rate=10:duration=1`];
      const result = await runMediaTool(ffmpegPath(), [
        ...args,
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out],
      ]);
      assert.equal(result.exitCode, 0, result.stderr);
      return out;
    }),
  );
}

/** Lines of a run's results parts, counted by status. */
async function countLines(dir: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const line of readResultLines(dir)) counts[line.status] = (counts[line.status] ?? 0) + 1;
  return counts;
}

describe('10,000 inputs in one run', function () {
  this.timeout(240_000);
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await sharedDevServer();
  });

  it('thumbnailer: completes, groups 300 failures by reason, makes 10 contact sheets, no event over 256 KB', async () => {
    const config = isolatedConfig(env.address);
    const dir = outputFolder('scale-10k-videos');
    const videos = await tinyVideos(dir);
    const notVideo = path.join(dir, 'notes.mp4');
    fs.writeFileSync(notVideo, 'meeting notes, not a video\n');
    const gone = path.join(dir, 'deleted.mp4');
    // 9,700 good items, 250 whose file is gone, 50 that are text: 300 failures of two kinds.
    const work: WorkItem<{ path: string }>[] = Array.from({ length: items }, (_, i) => ({
      id: `v-${String(i).padStart(5, '0')}`,
      payload: { path: i < 9_700 ? videos[i % videos.length] : i < 9_950 ? gone : notVideo },
    }));
    const runName = `scale-${Date.now()}`;

    const { result, workflowId } = await withPipelineWorkers(
      env,
      config,
      [config.queues.video, config.queues.image],
      async () => {
        const handle = await startThumbnailerRun(env.client, config, {
          runName,
          items: work,
          concurrency: 8,
          partitionWindow: 10,
          // Tiny files: batches cut the history events per item.
          batchSizes: { extract: 10, thumbnails: 20 },
        });
        return { result: await handle.result(), workflowId: handle.workflowId };
      },
    );

    assert.deepEqual([result.total, result.completed, result.deadLettered], [items, 9_700, 300]);
    assert.ok(result.results);
    assert.deepEqual(await countLines(result.results.dir), { completed: 9_700, deadLettered: 300 });
    assert.deepEqual(
      result.results.failureGroups.map((g) => [g.stage, g.type, g.count]),
      [
        ['extract-frame', 'InvalidInput', 250],
        ['extract-frame', 'InvalidInput', 50],
      ],
    );
    assert.ok(result.deadLetters.length <= 20, `${result.deadLetters.length} dead letters inline`);

    const sheets = result.reports?.['contact-sheets'];
    assert.equal(sheets?.files.length, 10, 'one sheet per 1,000 thumbnails');
    assert.deepEqual(sheets.notes, []);
    for (const file of [sheets.files[0], sheets.files[9]]) {
      assert.equal((await sharp(file).metadata()).format, 'jpeg', file);
    }

    const summary = formatThumbnailerSummary(result, { webUi: 'http://ui', outputDir: thumbnailerOutputDir(runName) });
    const lines = summary.split('\n');
    assert.ok(lines.length < 15, `a short summary:\n${summary}`);
    assert.equal(lines.filter((l) => l.includes('FAILED')).length, 2, summary);
    assert.match(
      summary,
      /FAILED {2}250 items at extract-frame \[InvalidInput\], e\.g\. v-09[7-9]\d\d, v-09[7-9]\d\d, v-09[7-9]\d\d: .*deleted\.mp4/,
    );
    assert.match(summary, /Results: .*part-NNNNN\.jsonl \(20 parts/);
    assert.match(summary, /Contact sheets: 10 in /);

    const sizes = await measureHistories(env.client, workflowId);
    console.log(
      `      thumbnailer 10k: ${sizes.workflows} histories, ${sizes.events} events, largest ${kb(sizes.largest.bytes)} (${sizes.largest.eventType} of ${sizes.largest.workflowId})`,
    );
    assert.ok(sizes.workflows >= 21, 'the run and its 20 partitions');
    assert.ok(sizes.largest.bytes < maxEventBytes, JSON.stringify(sizes));
  });

  it('image tagging: completes, groups the corrupt files, no event over 256 KB', async () => {
    const config = isolatedConfig(env.address);
    const dir = outputFolder('scale-10k-images');
    const make = (w: number, h: number, colour: string) =>
      sharp({ create: { width: w, height: h, channels: 3, background: colour } });
    const images = {
      landscape: path.join(dir, 'wide.jpg'),
      square: path.join(dir, 'square.webp'),
      banner: path.join(dir, 'banner.png'),
      portrait: path.join(dir, 'tall.jpg'),
    };
    await make(32, 18, '#c03020').jpeg().toFile(images.landscape);
    await make(16, 16, '#2040c0').webp().toFile(images.square);
    await make(40, 10, '#20a040').png().toFile(images.banner);
    await make(18, 32, '#e0e0e0').jpeg().toFile(images.portrait);
    const corrupt = path.join(dir, 'broken.jpg');
    fs.writeFileSync(corrupt, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 3)]));
    const common = [images.landscape, images.square, images.banner];
    // 9,900 images (100 portrait: the chosen tag, they get thumbnails) and 100 corrupt files.
    const manifest = path.join(dir, 'images.jsonl');
    const lines = Array.from({ length: items }, (_, i) => {
      const file = i >= 9_900 ? corrupt : i % 99 === 0 ? images.portrait : common[i % 3];
      return JSON.stringify({ id: `img-${String(i).padStart(5, '0')}`, path: file });
    });
    fs.writeFileSync(manifest, lines.join('\n') + '\n');
    const runName = `scale-${Date.now()}`;

    const run = await withPipelineWorkers(env, config, [], () =>
      runImageTagging(
        { client: env.client, config, dataDir: dir, log: () => undefined },
        { inputs: [manifest], tag: 'portrait', runName },
      ),
    );
    const { result } = run;
    assert.deepEqual([result.total, result.deadLettered], [items, 100]);
    assert.equal(result.reduce['tag-report'].count, 9_900);
    assert.equal(
      run.thumbnails.length > 0 && run.summary.some((l) => /\(100 files,/.test(l)),
      true,
      run.summary.join('\n'),
    );
    assert.ok(result.results);
    const counts = await countLines(result.results.dir);
    assert.equal(counts.deadLettered, 100);
    assert.deepEqual(
      result.results.failureGroups.map((g) => [g.stage, g.type, g.count]),
      [['tag', 'InvalidInput', 100]],
    );
    // The first 20 thumbnails are listed by name; items are not.
    assert.ok(run.summary.length < 32, `a short summary:\n${run.summary.join('\n')}`);
    assert.equal(run.summary.filter((l) => l.includes('FAILED')).length, 1, run.summary.join('\n'));

    const sizes = await measureHistories(env.client, `image-tagging/${runName}`);
    console.log(
      `      image tagging 10k: ${sizes.workflows} histories, ${sizes.events} events, largest ${kb(sizes.largest.bytes)} (${sizes.largest.eventType} of ${sizes.largest.workflowId})`,
    );
    assert.ok(sizes.workflows >= 21, 'the run and its 20 partitions of 500 images');
    assert.ok(sizes.largest.bytes < maxEventBytes, JSON.stringify(sizes));
  });
});
