/**
 * Hostile item data through the transcode stage activities: every bad field ends as that item's non-retryable
 * InvalidInput (a dead letter with a message saying what is wrong), never a render of another upload's folder or a
 * ladder above the source. Runs the real stage activities in a mock activity context; nothing reaches ffmpeg.
 */
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { StageItemResult } from '../src/activities/pipeline/types';
import { ladderFor } from '../src/activities/transcode/renditions';
import { transcodeStageActivities } from '../src/activities/transcode/stages';
import type { PipelineItem } from '../src/pipelines/spec';
import { BlobStore } from '../src/storage/blob-store';
import { outputFolder } from './support/media';

const a = 'a'.repeat(64);
const b = 'b'.repeat(64);
const upload = { name: 'clip.mp4', uri: `blob://uploads/${a}.mp4`, sha256: a, bytes: 10 };
const source = { codec: 'h264', width: 64, height: 64, durationSeconds: 1, frameRate: 10, streamIndex: 0 };

async function run(stage: 'transcode-probe' | 'transcode-render', items: PipelineItem[]): Promise<StageItemResult[]> {
  const activities = transcodeStageActivities(new BlobStore(outputFolder('transcode-items')));
  const call = { pipeline: 'transcode', run: 'hostile', stage, items, isolated: false };
  // The stage logs a warning per refused item; these are refused on purpose.
  return new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(activities[stage], call);
}

function refused(results: StageItemResult[], expected: Record<string, RegExp>): void {
  assert.equal(results.length, Object.keys(expected).length);
  for (const r of results) {
    assert.ok(!r.ok, `${r.id} is refused`);
    assert.deepEqual([r.error.type, r.error.retryable], ['InvalidInput', false], r.id);
    assert.match(r.error.message, new RegExp(`^Item "${r.id}" is not a transcode upload: `), r.id);
    assert.match(r.error.message, expected[r.id], r.id);
  }
}

describe('transcode stage activities refuse hostile item data', () => {
  it('probe: names, URIs and hashes that are not an upload of ours', async () => {
    const results = await run('transcode-probe', [
      { id: 'name-object', data: { ...upload, name: { toString: 1 } } },
      { id: 'uri-escape', data: { ...upload, uri: 'blob://uploads/../../../etc/passwd' } },
      { id: 'other-hash', data: { ...upload, sha256: b } },
      { id: 'bytes-text', data: { ...upload, bytes: '10' } },
      { id: 'empty', data: {} },
    ]);
    refused(results, {
      'name-object': /data\.name must be the file name/,
      'uri-escape': /data\.uri must be blob:\/\/uploads\/<data\.sha256>/,
      'other-hash': /data\.uri must be blob:\/\/uploads\/<data\.sha256>/,
      'bytes-text': /data\.bytes must be a size/,
      empty: /data\.name must be the file name/,
    });
  });

  it('render: a ladder above the source or a source that is not whole', async () => {
    const ladder = ladderFor(source);
    const results = await run('transcode-render', [
      {
        id: 'huge',
        data: { ...upload, source, ladder: [{ rendition: 'source-size', width: 100_000, height: 100_000 }] },
      },
      { id: 'upscale', data: { ...upload, source, ladder: [{ rendition: '1080p', width: 1080, height: 1080 }] } },
      { id: 'negative', data: { ...upload, source: { ...source, width: -64 }, ladder } },
      { id: 'stream', data: { ...upload, source: { ...source, streamIndex: '0,1' }, ladder } },
    ]);
    refused(results, {
      huge: /data\.ladder is not the ladder of its source 64x64/,
      upscale: /data\.ladder is not the ladder of its source 64x64/,
      negative: /data\.source .* is missing or not whole/,
      stream: /data\.source .* is missing or not whole/,
    });
  });
});
