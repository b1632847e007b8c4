/**
 * The rendition ladder never goes above the source: exact ladders for typical and tiny sources, and a property
 * over any source size (fast-check, fixed seed printed on failure): every planned rendition fits inside the source
 * (sides of 1 pixel become 2, the least H.264 holds), has even sides, and there is always an MP4.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ladderFor } from '../src/activities/transcode/renditions';

const ladder = (width: number, height: number) =>
  Object.fromEntries(ladderFor({ width, height }).map((r) => [r.rendition, `${r.width}x${r.height}`]));

describe('transcode rendition ladder', () => {
  it('gives tiny sources renditions at their own size, never 1080p or 480p', () => {
    assert.deepEqual(ladder(2, 2), { 'source-size': '2x2', 'preview-gif': '2x2', poster: '2x2' });
    assert.deepEqual(ladder(64, 64), { 'source-size': '64x64', 'preview-gif': '64x64', poster: '64x64' });
    // Odd sides round down to even: 3x3 → 2x2, 65x33 → 64x32.
    assert.deepEqual(ladder(65, 33), { 'source-size': '64x32', 'preview-gif': '64x32', poster: '64x32' });
  });

  it('keeps a source between rungs at its own size and adds the rungs below it', () => {
    assert.deepEqual(ladder(640, 360), { 'source-size': '640x360', 'preview-gif': '426x240', poster: '640x360' });
    assert.deepEqual(ladder(360, 640), { 'source-size': '360x640', 'preview-gif': '240x426', poster: '360x640' });
    assert.deepEqual(ladder(1280, 720), {
      'source-size': '1280x720',
      '480p': '854x480',
      'preview-gif': '426x240',
      poster: '1280x720',
    });
  });

  it('gives standard sources the standard rungs they reach, 4K only from 4K', () => {
    assert.deepEqual(ladder(1920, 1080), {
      '1080p': '1920x1080',
      '480p': '854x480',
      'preview-gif': '426x240',
      poster: '1280x720',
    });
    assert.deepEqual(ladder(3840, 2160), {
      '2160p': '3840x2160',
      '1080p': '1920x1080',
      '480p': '854x480',
      'preview-gif': '426x240',
      poster: '1280x720',
    });
    assert.deepEqual(ladder(1080, 1920), {
      '1080p': '1080x1920',
      '480p': '480x854',
      'preview-gif': '240x426',
      poster: '720x1280',
    });
    assert.deepEqual(Object.keys(ladder(480, 480)), ['480p', 'preview-gif', 'poster']);
  });

  it('never plans a rendition above the source, for any source size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12000 }), fc.integer({ min: 1, max: 12000 }), (width, height) => {
        const planned = ladderFor({ width, height });
        assert.ok(
          planned.some((r) => r.rendition !== 'preview-gif' && r.rendition !== 'poster'),
          'at least one MP4',
        );
        for (const r of planned) {
          assert.ok(r.width <= Math.max(2, width) && r.height <= Math.max(2, height), `${r.rendition} fits`);
          assert.ok(r.width % 2 === 0 && r.height % 2 === 0 && r.width >= 2 && r.height >= 2, 'even sides');
          assert.ok(Math.max(r.width, r.height) <= 7680, 'at most 8K');
          // Landscape stays landscape, portrait portrait.
          if (width > height) assert.ok(r.width >= r.height);
          if (height > width) assert.ok(r.height >= r.width);
        }
        const sizes = planned.filter((r) => r.rendition.endsWith('p') || r.rendition === 'source-size');
        assert.equal(new Set(sizes.map((r) => `${r.width}x${r.height}`)).size, sizes.length, 'no MP4 twice');
      }),
      { numRuns: 2000, seed: 11 },
    );
  });
});
