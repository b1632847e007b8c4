/**
 * The upload → transcode flow on a real Temporal dev server with real ffmpeg: renditions as ffprobe reads them
 * (H.264 at 1080p/480p, GIF, poster; 4K only from the 4K source), the manifest equal to what ffprobe reads, a corrupt
 * upload failing with its reason while the run completes, workflows findable in the Web UI, and the same upload
 * not rendered twice.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTranscodeActivities } from '../src/activities/transcode';
import type { TranscodeManifest, Upload } from '../src/activities/transcode/types';
import { startTranscodeRun, uploadFiles } from '../src/client/transcode-run';
import { BatchPipeline, BatchRun, BatchStage } from '../src/core/search-attributes';
import type { ItemOutcome } from '../src/core/work-item';
import { BlobStore } from '../src/runtime/blob-store';
import { repoRoot } from '../src/runtime/paths';
import { generateSampleVideos } from '../src/runtime/sample-videos';
import { ffmpegFileArg, ffprobePath, runMediaTool } from '../src/runtime/tools/ffmpeg';
import { collect, ListSource } from '../src/sources';
import { transcodeProgressQuery, TranscodeRunResult } from '../src/workflows/flows/transcode';
import type { TranscodeUploadResult } from '../src/workflows/flows/transcode-upload';
import { isolatedConfig } from './support/config';
import { listFiles, outputFolder } from './support/media';
import { sharedDevServer } from './support/servers';
import { withWorkers } from './support/workers';

interface Probed {
  codec: string;
  width: number;
  height: number;
  durationSeconds: number | null;
  bytes: number;
}

/** ffprobe run here, apart from the code under test. */
async function probe(file: string): Promise<Probed> {
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ffmpegFileArg(file)];
  const out = await runMediaTool(ffprobePath(), args);
  assert.equal(out.exitCode, 0, `ffprobe reads ${file}: ${out.stderr}`);
  const json = JSON.parse(out.stdout) as {
    format: { duration?: string };
    streams: { codec_type: string; codec_name: string; width: number; height: number }[];
  };
  const video = json.streams.find((s) => s.codec_type === 'video')!;
  const duration = Number(json.format.duration);
  return {
    codec: video.codec_name,
    width: video.width,
    height: video.height,
    durationSeconds: Number.isFinite(duration) && duration > 0 ? duration : null,
    bytes: fs.statSync(file).size,
  };
}

function succeeded(outcomes: ItemOutcome<TranscodeUploadResult>[], upload: Upload): TranscodeUploadResult {
  const outcome = outcomes.find((o) => o.itemId === upload.id);
  assert.ok(outcome?.status === 'succeeded', `${upload.name} was transcoded: ${JSON.stringify(outcome)}`);
  return outcome.result;
}

describe('transcode flow on the dev server with real ffmpeg', function () {
  let env: TestWorkflowEnvironment;
  let store: BlobStore;
  let files: { landscape: string; portrait: string; uhd: string; corrupt: string };

  before(async () => {
    env = await sharedDevServer();
    store = new BlobStore(outputFolder('transcode-blobs'));
    // Tiny sources (cached between test runs): the 4K one is 1 s at 5 fps so its 4K rendition encodes quickly.
    const dir = path.join(repoRoot, 'test-output', 'transcode-inputs');
    const [landscape, portrait, uhd] = await generateSampleVideos(dir, () => undefined, [
      { source: 'testsrc2', width: 640, height: 360, seconds: 2, fps: 10 },
      { source: 'mandelbrot', width: 360, height: 640, seconds: 1, fps: 10 },
      { source: 'testsrc2', width: 3840, height: 2160, seconds: 1, fps: 5 },
    ]);
    const corrupt = path.join(dir, 'corrupt.mp4');
    fs.writeFileSync(corrupt, Buffer.concat([Buffer.from('000000186674797069736f6d', 'hex'), Buffer.alloc(4000, 7)]));
    files = { landscape, portrait, uhd, corrupt };
  });

  /** Uploads the files and runs the flow with in-process workers; returns the result and the run's handle. */
  async function transcodeRun(runName: string, inputs: string[]) {
    const config = isolatedConfig(env.address);
    const uploads = await uploadFiles(store, await collect(new ListSource(inputs)));
    const activities = createTranscodeActivities(store);
    return withWorkers(env, config, { video: activities, image: activities }, async () => {
      const handle = await startTranscodeRun(env.client, config, { runName, uploads });
      const result: TranscodeRunResult = await handle.result();
      const progress = await handle.query(transcodeProgressQuery);
      return { uploads, result, handle, progress };
    });
  }

  let first: Awaited<ReturnType<typeof transcodeRun>>;
  const runName = `t-${process.pid}`;

  it('renders every rendition, 4K only from the 4K source, and records a corrupt upload with its reason', async () => {
    first = await transcodeRun(runName, [files.landscape, files.portrait, files.uhd, files.corrupt]);
    const { uploads, result, progress } = first;
    const [landscape, portrait, uhd, corrupt] = uploads;
    assert.deepEqual(
      { total: progress.total, done: progress.done, succeeded: progress.succeeded, failed: progress.failed },
      { total: 4, done: 4, succeeded: 3, failed: 1 },
    );
    assert.deepEqual(result.progress, progress);

    const failure = result.outcomes.find((o) => o.itemId === corrupt.id);
    assert.ok(failure?.status === 'failed');
    assert.equal(failure.failure.stage, 'probeUpload');
    assert.equal(failure.failure.type, 'InvalidInput');
    assert.match(failure.failure.message, /^Cannot read upload "corrupt\.mp4" as a video: ffprobe says ".+"/);
    assert.match(failure.failure.message, /not a video or is corrupt/);

    const expected = {
      [landscape.id]: { '1080p': [1920, 1080], '480p': [854, 480], 'preview-gif': [426, 240], poster: [1280, 720] },
      [portrait.id]: { '1080p': [1080, 1920], '480p': [480, 854], 'preview-gif': [240, 426], poster: [720, 1280] },
      [uhd.id]: {
        '2160p': [3840, 2160],
        '1080p': [1920, 1080],
        '480p': [854, 480],
        'preview-gif': [426, 240],
        poster: [1280, 720],
      },
    };
    const codecs: Record<string, string> = {
      '2160p': 'h264',
      '1080p': 'h264',
      '480p': 'h264',
      'preview-gif': 'gif',
      poster: 'mjpeg',
    };
    for (const upload of [landscape, portrait, uhd]) {
      const transcoded = succeeded(result.outcomes, upload);
      const sizes = expected[upload.id];
      assert.deepEqual(
        transcoded.renditions.map((r) => r.rendition),
        Object.keys(sizes),
        `${upload.name}: the renditions (4K only for the 4K source)`,
      );
      for (const r of transcoded.renditions) {
        const file = store.pathOf(r.uri);
        const read = await probe(file);
        const [width, height] = sizes[r.rendition as keyof typeof sizes]!;
        assert.deepEqual([read.codec, read.width, read.height], [codecs[r.rendition], width, height], file);
        assert.ok(read.bytes > 1000 && read.bytes < 5e6, `${file}: ${read.bytes} bytes`);
        if (r.rendition !== 'poster') {
          const seconds = Math.min(r.rendition === 'preview-gif' ? 3 : Infinity, transcoded.source.durationSeconds);
          assert.ok(
            Math.abs(read.durationSeconds! - seconds) < 0.3,
            `${file}: ${read.durationSeconds} s ≈ ${seconds} s`,
          );
        }
        assert.equal(r.reused, false, `${file} was rendered in this run`);
      }

      const manifest = JSON.parse(fs.readFileSync(store.pathOf(transcoded.manifestUri), 'utf8')) as TranscodeManifest;
      assert.equal(manifest.source.sha256, upload.sha256);
      assert.deepEqual(
        manifest.renditions.map((r) => r.rendition),
        transcoded.renditions.map((r) => r.rendition),
      );
      for (const entry of manifest.renditions) {
        const { codec, width, height, durationSeconds, bytes } = entry;
        assert.deepEqual(
          { codec, width, height, durationSeconds, bytes },
          await probe(store.pathOf(entry.uri)),
          `manifest entry ${entry.rendition} of ${upload.name}`,
        );
      }
    }
    assert.ok(
      !fs.existsSync(path.join(store.root, 'renditions', landscape.sha256, '2160p.mp4')),
      'no 4K of a small source',
    );
    assert.deepEqual(
      listFiles(store.root).filter((f) => path.basename(f).startsWith('.')),
      [],
      'no temporary files left',
    );
  });

  it('is findable in the Web UI: run, upload and rendition workflows with meaningful IDs and search attributes', async () => {
    const { handle, uploads } = first;
    const [landscape, , , corrupt] = uploads;
    const run = await handle.describe();
    assert.equal(run.typedSearchAttributes.get(BatchPipeline), 'transcode');
    assert.equal(run.typedSearchAttributes.get(BatchRun), runName);
    assert.equal(run.typedSearchAttributes.get(BatchStage), 'done');

    const rendition = await env.client.workflow.getHandle(`transcode/${runName}/${landscape.id}/1080p`).describe();
    assert.equal(rendition.status.name, 'COMPLETED');
    assert.equal(rendition.typedSearchAttributes.get(BatchRun), runName);
    assert.equal(await rendition.staticSummary(), 'sample-1-testsrc2-640x360.mp4 → 1080p H.264 MP4, 1920x1080');
    const failed = await env.client.workflow.getHandle(`transcode/${runName}/${corrupt.id}`).describe();
    assert.equal(failed.status.name, 'FAILED');
    assert.equal(failed.typedSearchAttributes.get(BatchStage), 'probe', 'the failed upload shows where it stopped');
  });

  it('refuses a second run under a name already used', async () => {
    const config = isolatedConfig(env.address);
    await assert.rejects(
      startTranscodeRun(env.client, config, { runName, uploads: first.uploads }),
      new RegExp(`already a transcode run named "${runName}".*choose another --run name`),
    );
  });

  it('does not render the same upload twice: a second run keeps the files of the first', async () => {
    const landscape = first.uploads[0];
    const before = succeeded(first.result.outcomes, landscape).renditions.map((r) => {
      const st = fs.statSync(store.pathOf(r.uri));
      return { rendition: r.rendition, mtimeMs: st.mtimeMs, ino: st.ino };
    });

    // The same file given twice, in a new run: one upload, nothing rendered.
    const again = await transcodeRun(`${runName}-again`, [files.landscape, files.landscape]);
    assert.equal(again.uploads.length, 1);
    assert.equal(again.uploads[0].uri, landscape.uri);
    const transcoded = succeeded(again.result.outcomes, again.uploads[0]);
    assert.deepEqual(
      transcoded.renditions.map((r) => [r.rendition, r.reused]),
      before.map((b) => [b.rendition, true]),
    );
    const after = transcoded.renditions.map((r) => {
      const st = fs.statSync(store.pathOf(r.uri));
      return { rendition: r.rendition, mtimeMs: st.mtimeMs, ino: st.ino };
    });
    assert.deepEqual(after, before, 'same files, untouched');
    assert.equal(listFiles(path.join(store.root, 'uploads')).length, 4, 'one stored blob per distinct upload');
  });
});
