/**
 * Image tagging: sharp's tags of known images (activities alone), then the whole flow on the
 * real dev server with in-process workers: the histogram counts every tagged image, bytes and
 * pixels add up to the files', the decompression bomb and the corrupt file are dead-lettered with
 * their reasons while the run completes, the report (JSON + SVG) is written, and thumbnails exist
 * only for the images with the chosen tag, at the right sizes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { MockActivityEnvironment, TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { tagImage } from '../src/activities/image-tagging/tag-image';
import { thumbnailImage } from '../src/activities/image-tagging/thumbnail-image';
import { runOutputDir } from '../src/activities/pipeline/run-outputs';
import type { StageActivity, StageCall, StageItemResult } from '../src/activities/pipeline/types';
import { ImageTaggingRun, runImageTagging } from '../src/cli/flows/image-tagging';
import { bombSampleName, corruptSampleName, generateSampleImages } from '../src/devstack/sample-images';
import { itemIdForPath } from '../src/sources/item-id';
import { isolatedConfig } from './support/config';
import { listFiles, outputFolder } from './support/media';
import { withPipelineWorkers } from './support/pipeline-workers';
import { sharedDevServer } from './support/servers';

/** The demo images (src/devstack/sample-images.ts): displayed size and the tags a person would give them. */
const expected: Record<string, { width: number; height: number; tags: string[] }> = {
  'sunset-2400x1350.jpg': { width: 2400, height: 1350, tags: ['large', 'landscape', 'orange', 'midtone', 'jpeg'] },
  'forest-900x1600.jpg': { width: 900, height: 1600, tags: ['medium', 'portrait', 'green', 'dark', 'jpeg'] },
  'sky-800x800.png': { width: 800, height: 800, tags: ['medium', 'square', 'blue', 'bright', 'png'] },
  'night-1280x720.webp': { width: 1280, height: 720, tags: ['medium', 'landscape', 'black', 'dark', 'webp'] },
  'snow-640x480.jpg': { width: 640, height: 480, tags: ['medium', 'landscape', 'white', 'bright', 'jpeg'] },
  'logo-480x480.png': { width: 480, height: 480, tags: ['small', 'square', 'red', 'midtone', 'transparent', 'png'] },
  'icon-160x120.png': { width: 160, height: 120, tags: ['small', 'landscape', 'yellow', 'bright', 'png'] },
  'banner-1920x480.jpg': { width: 1920, height: 480, tags: ['medium', 'landscape', 'purple', 'dark', 'jpeg'] },
  'poster-1200x2400.webp': { width: 1200, height: 2400, tags: ['large', 'portrait', 'pink', 'midtone', 'webp'] },
  'gray-400x400.tiff': { width: 400, height: 400, tags: ['small', 'square', 'gray', 'midtone', 'tiff'] },
  // Stored 800×600 with EXIF orientation 6: shown (and tagged) as 600×800.
  'rotated-exif-800x600.jpg': { width: 600, height: 800, tags: ['medium', 'portrait', 'brown', 'midtone', 'jpeg'] },
};

const tagged = Object.keys(expected);
const countTags = (names: string[]) => {
  const counts: Record<string, number> = {};
  for (const name of names) for (const tag of expected[name].tags) counts[tag] = (counts[tag] ?? 0) + 1;
  return counts;
};

let samples: Promise<string[]> | undefined;
/** The demo images, made once per test run in test-output/image-tagging-samples. */
function sampleImages(): Promise<string[]> {
  samples ??= generateSampleImages(outputFolder('image-tagging-samples'), () => undefined);
  return samples;
}
const sample = async (name: string) => (await sampleImages()).find((file) => path.basename(file) === name)!;

function stageCall(stage: string, files: string[]): StageCall {
  const items = files.map((file) => ({ id: itemIdForPath(file), data: { path: file } }));
  return { pipeline: 'image-tagging', run: 'test-activities', stage, items, isolated: false };
}

/** Runs a stage activity on a call, outside a worker; its logger quiet about the failures provoked here. */
const runStage = (activity: StageActivity, call: StageCall) =>
  new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(activity, call) as Promise<
    StageItemResult[]
  >;

const byName = (results: StageItemResult[], files: string[]) =>
  new Map(results.map((r, i) => [path.basename(files[i]), r]));

describe('image tagging', function () {
  describe('tag-image and thumbnail-image activities', () => {
    it('tags each known image by its size, orientation, colour, brightness, transparency and format', async () => {
      const files = await sampleImages();
      const results = byName(await runStage(tagImage, stageCall('tag', files)), files);
      for (const [name, want] of Object.entries(expected)) {
        const r = results.get(name);
        assert.ok(r?.ok, `${name} was tagged: ${JSON.stringify(r)}`);
        assert.deepEqual(r.data.tags, want.tags, name);
        assert.deepEqual([r.data.width, r.data.height], [want.width, want.height], name);
        assert.equal(r.data.pixels, want.width * want.height, name);
        assert.equal(r.data.bytes, fs.statSync(await sample(name)).size, name);
      }
    });

    it('refuses the decompression bomb from its header and the truncated JPEG, as bad input', async () => {
      const files = [await sample(bombSampleName), await sample(corruptSampleName), '/nonexistent/photo.jpg'];
      const [bomb, corrupt, missing] = await runStage(tagImage, stageCall('tag', files));
      for (const r of [bomb, corrupt, missing])
        assert.ok(!r.ok && r.error.type === 'InvalidInput' && !r.error.retryable);
      assert.match(
        !bomb.ok ? bomb.error.message : '',
        /16384×16384 \(268 megapixels\), over the limit of 100 megapixels/,
      );
      assert.match(
        !corrupt.ok ? corrupt.error.message : '',
        /is not a readable image \((VipsJpeg: premature end|damaged or truncated data)/,
      );
      assert.match(!missing.ok ? missing.error.message : '', /does not exist; check the path/);
    });

    it('writes the same thumbnail on a retry, keeping transparency as PNG, with no temporary files left', async () => {
      const files = [await sample('logo-480x480.png'), await sample('poster-1200x2400.webp')];
      const call = stageCall('thumbnail', files);
      fs.rmSync(runOutputDir(call.pipeline, call.run), { recursive: true, force: true });
      const first = await runStage(thumbnailImage, call);
      const again = await runStage(thumbnailImage, call);
      assert.deepEqual(again, first);
      const dir = path.join(runOutputDir(call.pipeline, call.run), 'thumbnails');
      assert.deepEqual(
        listFiles(dir),
        files.map((f) => `${itemIdForPath(f)}${f.endsWith('.png') ? '.png' : '.jpg'}`),
      );
      const logo = await sharp(path.join(dir, `${itemIdForPath(files[0])}.png`)).metadata();
      assert.deepEqual([logo.width, logo.height, logo.hasAlpha], [320, 320, true]);
      const poster = await sharp(path.join(dir, `${itemIdForPath(files[1])}.jpg`)).metadata();
      assert.deepEqual([poster.format, poster.width, poster.height], ['jpeg', 160, 320]);
    });
  });

  describe('one read per image', () => {
    it('thumbnails the file as it is now when it changed after tagging (same path, new content)', async () => {
      const dir = outputFolder('image-tagging-reread');
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'changing.jpg');
      await sharp({ create: { width: 640, height: 480, channels: 3, background: '#c03020' } })
        .jpeg()
        .toFile(file);
      const [first] = await runStage(tagImage, stageCall('tag', [file]));
      assert.ok(first.ok && (first.data.tags as string[]).includes('landscape'));
      // Replaced by a portrait image under the same name between the two stages.
      const replacement = path.join(dir, 'replacement.jpg');
      await sharp({ create: { width: 300, height: 600, channels: 3, background: '#2040c0' } })
        .jpeg()
        .toFile(replacement);
      fs.renameSync(replacement, file);
      const call = stageCall('thumbnail', [file]);
      call.run = `test-reread-${process.pid}`;
      fs.rmSync(runOutputDir(call.pipeline, call.run), { recursive: true, force: true });
      const [thumb] = await runStage(thumbnailImage, call);
      assert.ok(thumb.ok);
      assert.deepEqual(
        [(thumb.data.thumbnail as { width: number }).width, (thumb.data.thumbnail as { height: number }).height],
        [160, 320],
      );
      const [again] = await runStage(tagImage, stageCall('tag', [file]));
      assert.ok(again.ok);
      assert.deepEqual(again.data.tags, ['small', 'portrait', 'blue', 'dark', 'jpeg']);
    });
  });

  describe('the image-tagging flow on the dev server', function () {
    let env: TestWorkflowEnvironment;
    let run: ImageTaggingRun;
    // Outputs go where workers put them, <dataDir>/outputs/image-tagging/<run>: cleared first, kept after.
    const runName = 'test-flow';
    const outputs = () => runOutputDir('image-tagging', runName);

    before(async () => {
      env = await sharedDevServer();
      const config = isolatedConfig(env.address);
      const files = await sampleImages();
      fs.rmSync(outputs(), { recursive: true, force: true });
      const ctx = { client: env.client, config, dataDir: '', log: () => undefined };
      run = await withPipelineWorkers(env, config, [], () =>
        runImageTagging(ctx, { inputs: [path.dirname(files[0])], tag: 'landscape', runName }),
      );
    });

    it('completes with every image tagged or dead-lettered, and counts each tagged image in the histogram', () => {
      const { result } = run;
      assert.equal(result.total, tagged.length + 2);
      assert.equal(result.deadLettered, 2);
      const report = result.reduce['tag-report'];
      assert.equal(report.count, tagged.length);
      assert.deepEqual(report.histograms.tags, countTags(tagged));
      // Each image has exactly one size class: their counts add up to the tagged images.
      const sizes = ['small', 'medium', 'large'].map((t) => report.histograms.tags[t] ?? 0);
      assert.equal(
        sizes.reduce((a, b) => a + b),
        tagged.length,
      );
    });

    it('sums the bytes and pixels of the tagged files', async () => {
      const { sums } = run.result.reduce['tag-report'];
      let bytes = 0;
      for (const name of tagged) bytes += fs.statSync(await sample(name)).size;
      const pixels = tagged.reduce((n, name) => n + expected[name].width * expected[name].height, 0);
      assert.deepEqual(sums, { bytes, pixels });
    });

    it('dead-letters the bomb and the corrupt file at the tag stage, with their reasons', () => {
      const letters = run.result.deadLetters
        .map((d) => [path.basename(String(d.input.data.path)), d.stage, d.error.type, d.attempts, d.error.message])
        .sort();
      assert.deepEqual(
        letters.map((l) => l.slice(0, 4)),
        [
          [bombSampleName, 'tag', 'InvalidInput', 1],
          [corruptSampleName, 'tag', 'InvalidInput', 1],
        ],
      );
      assert.match(String(letters[0][4]), /over the limit of 100 megapixels: refused without decoding it/);
      assert.match(String(letters[1][4]), /not a readable image/);
    });

    it('writes report.json and a histogram.svg with one bar per tag', async () => {
      const files = run.result.reports?.['tag-report']?.files ?? [];
      const dir = path.join(outputs(), 'tag-report');
      assert.deepEqual(files, [path.join(dir, 'report.json'), path.join(dir, 'histogram.svg')]);
      const report = JSON.parse(fs.readFileSync(files[0], 'utf8'));
      assert.deepEqual(
        [report.count, report.sums, report.histograms.tags],
        [tagged.length, run.result.reduce['tag-report'].sums, countTags(tagged)],
      );
      const svg = fs.readFileSync(files[1], 'utf8');
      const bars = [...svg.matchAll(/<rect class="bar" data-bin="([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(bars.sort(), Object.keys(countTags(tagged)).sort());
      const rendered = await sharp(Buffer.from(svg)).metadata();
      assert.equal(rendered.format, 'svg');
    });

    it('makes thumbnails only for the images with the chosen tag, fitting 320×320', async () => {
      const landscape = tagged.filter((name) => expected[name].tags.includes('landscape'));
      const want = await Promise.all(
        landscape.map(async (name) => {
          const { width, height } = expected[name];
          const scale = Math.min(1, 320 / Math.max(width, height));
          return [`${itemIdForPath(await sample(name))}.jpg`, Math.round(width * scale), Math.round(height * scale)];
        }),
      );
      const got = run.thumbnails.map((t) => [path.basename(t.file), t.width, t.height]);
      assert.deepEqual(got.sort(), want.sort());
      assert.deepEqual(listFiles(path.join(outputs(), 'thumbnails')).sort(), want.map((w) => w[0]).sort());
      // Every tagged image went on: the landscape ones through the thumbnails, the rest straight to the report.
      assert.deepEqual(
        [run.result.stages['with-tag'].passed, run.result.stages.thumbnail.passed, run.result.dropped],
        [tagged.length, landscape.length, 0],
      );
    });

    it('makes the thumbnails in the partition as items are tagged: no copy branches, no barrier', async () => {
      const history = await env.client.workflow.getHandle(`image-tagging/${runName}/p0`).fetchHistory();
      const events = history.events ?? [];
      assert.equal(events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length, 0);
      const scheduled = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
      // Batches of up to 20: the 13 images in one tag call, the 5 landscape ones in at most 2 thumbnail calls.
      assert.equal(scheduled.filter((name) => name === 'tag-image').length, 1);
      assert.ok(scheduled.filter((name) => name === 'thumbnail-image').length <= 2, scheduled.join(', '));
    });

    it('tells a person the counts, sums, tags, report files, thumbnails, failures by reason and the results', () => {
      const text = run.summary.join('\n');
      assert.match(text, /13 files, 11 tagged, 2 dead-lettered; 5 with tag "landscape" got a thumbnail/);
      assert.match(text, /tags: medium 6, jpeg 5, landscape 5, midtone 5, /);
      assert.match(text, /Report: .*tag-report\/report\.json, .*tag-report\/histogram\.svg/);
      assert.match(text, /Thumbnails: .*thumbnails\/ \(5 files, at most 320×320\)/);
      // Each reason once, with the item; every item's line is in the results parts.
      assert.match(text, /FAILED {2}\S+ {2}at tag \[InvalidInput\]: Image .*bomb-16384x16384\.png .* over the limit/);
      assert.match(text, /FAILED {2}\S+ {2}at tag \[InvalidInput\]: Image .*corrupt-truncated\.jpg/);
      assert.match(text, /Results: .*results\/image-tagging\/test-flow[^/]*\/part-NNNNN\.jsonl/);
      assert.match(text, /Web UI: +http:\/\/localhost:\d+\/namespaces\/default\/workflows\/image-tagging%2Ftest-flow/);
    });
  });
});
