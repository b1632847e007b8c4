/**
 * What makes image tagging cheap, without a server: the colours of a sample measured in one pass
 * equal sharp's `stats()` (means and dominant colour, ties included) on the demo images and on
 * images built to tie, and the worker sizing (activity slots, libvips threads) follows the cores and the
 * BATCH_*_SLOTS / BATCH_IMAGE_THREADS settings, refusing values that are not counts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { sampleColours } from '../src/activities/image-tagging/sample-colours';
import { workerSizingFromEnv } from '../src/infra/config';
import { generateSampleImages } from '../src/devstack/sample-images';
import { outputFolder } from './support/media';

/** The sample tag-image measures: within 256×256, on a white page, sRGB, 8 bits. */
const sampleOf = (input: Buffer) =>
  sharp(input)
    .resize(256, 256, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });

async function sharpStats(data: Buffer, width: number, height: number, channels: 3 | 4) {
  const stats = await sharp(data, { raw: { width, height, channels } }).stats();
  const [r, g, b] = stats.channels.map((c) => c.mean);
  return { mean: { r, g, b }, dominant: stats.dominant };
}

/** A small deterministic generator: the same images every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('image tagging work', () => {
  describe('sample colours', () => {
    it("equals sharp's stats() on the demo images (means and dominant colour)", async () => {
      const files = await generateSampleImages(outputFolder('image-tagging-work-samples'), () => undefined);
      const readable = files.filter((f) => !/bomb|corrupt/.test(path.basename(f)));
      assert.ok(readable.length >= 11);
      for (const file of readable) {
        const { data, info } = await sampleOf(fs.readFileSync(file));
        assert.equal(info.channels, 3, file);
        assert.deepEqual(sampleColours(data, 3), await sharpStats(data, info.width, info.height, 3), file);
      }
    });

    it('puts channel values in the histogram cell libvips does (0–16 in the first, then 16 each)', async () => {
      // Both sides of every cell boundary, and the ends (all 256 values were checked once, by hand).
      const values = [0, 255, ...Array.from({ length: 15 }, (_, i) => [16 * (i + 1), 16 * (i + 1) + 1]).flat()];
      for (const v of values) {
        const data = Buffer.alloc(4 * 4 * 3, v);
        assert.deepEqual(sampleColours(data, 3), await sharpStats(data, 4, 4, 3), `value ${v}`);
      }
    });

    it('breaks ties between equally common colours the way sharp does', async () => {
      const next = random(7);
      for (let t = 0; t < 120; t++) {
        // k colours, each on the same number of pixels: every image is a tie between k cells.
        const k = 2 + Math.floor(next() * 4);
        const colours = Array.from({ length: k }, () => [0, 1, 2].map(() => Math.floor(next() * 256)));
        const channels: 3 | 4 = t % 3 === 0 ? 4 : 3;
        const [width, height] = [4 * k, 1 + Math.floor(next() * 20)];
        const data = Buffer.alloc(width * height * channels, 255);
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const c = colours[(x + y * (t % 3)) % k];
            data.set(c, (y * width + x) * channels);
          }
        }
        const got = sampleColours(data, channels);
        const want = await sharpStats(data, width, height, channels);
        assert.deepEqual(got.dominant, want.dominant, `colours ${JSON.stringify(colours)}, ${channels} channels`);
      }
    });

    it('refuses a sample without red, green and blue', () => {
      assert.throws(() => sampleColours(Buffer.alloc(16), 1), /at least 3 channels/);
      assert.throws(() => sampleColours(Buffer.alloc(0), 3), /at least one pixel/);
    });
  });

  describe('worker sizing', () => {
    it('sizes slots and libvips threads to the cores: no more threads than cores on 2 cores', () => {
      assert.deepEqual(workerSizingFromEnv({}, 2), { stageSlots: 8, imageSlots: 4, videoSlots: 2, imageThreads: 1 });
      assert.deepEqual(workerSizingFromEnv({}, 16), { stageSlots: 32, imageSlots: 16, videoSlots: 8, imageThreads: 4 });
      // A larger threadpool runs more image operations at once: fewer threads each.
      assert.equal(workerSizingFromEnv({ UV_THREADPOOL_SIZE: '8' }, 16).imageThreads, 2);
    });

    it('takes the settings, and refuses values that are not counts with what to write', () => {
      const env = { BATCH_STAGE_SLOTS: '3', BATCH_IMAGE_SLOTS: '2', BATCH_VIDEO_SLOTS: '1', BATCH_IMAGE_THREADS: '2' };
      assert.deepEqual(workerSizingFromEnv(env, 2), { stageSlots: 3, imageSlots: 2, videoSlots: 1, imageThreads: 2 });
      for (const bad of ['0', '-1', '2.5', 'many']) {
        assert.throws(
          () => workerSizingFromEnv({ BATCH_STAGE_SLOTS: bad }, 2),
          new RegExp(`BATCH_STAGE_SLOTS=${bad} is not a number of activity slots; set it to a whole number`),
        );
      }
      assert.throws(() => workerSizingFromEnv({ BATCH_IMAGE_THREADS: '0' }, 2), /number of libvips threads/);
    });
  });
});
