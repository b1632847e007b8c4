/**
 * The upload → transcode flow on the pipeline engine, on a real Temporal dev server with real ffmpeg: the ladder as
 * ffprobe reads the files (nothing above the source: a 2x2 and a 64x64 upload get renditions at their own size, 4K
 * only from the 4K source), the manifest equal to what ffprobe reads, a corrupt upload dead-lettered with its reason
 * while the others finish, progress, results parts and the summary grouping failures, workflows findable in the Web
 * UI (BatchPipeline = "transcode"), and the same bytes never rendered twice.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { readResultLines } from '../src/activities/pipeline/results';
import type { ResultLine } from '../src/activities/pipeline/results-types';
import { renditionUri } from '../src/activities/transcode/renditions';
import type { SourceVideo, TranscodeManifest } from '../src/activities/transcode/types';
import type { RenditionReport } from '../src/activities/transcode/upload-item';
import { startTranscodeRun, uploadFiles } from '../src/client/transcode';
import { formatTranscodeSummary, readSummaryLines } from '../src/cli/flows/transcode-summary';
import { BatchPipeline, BatchRun, BatchStage } from '../src/core/search-attributes';
import { BlobStore } from '../src/storage/blob-store';
import { repoRoot } from '../src/infra/paths';
import { generateSampleVideos } from '../src/devstack/sample-videos';
import { ffmpegFileArg, ffprobePath, runMediaTool } from '../src/activities/media/ffmpeg';
import { collect, ListSource } from '../src/sources';
import { pipelineProgressQuery } from '../src/workflows/pipeline';
import { isolatedConfig } from './support/config';
import { listFiles, outputFolder } from './support/media';
import { sharedDevServer } from './support/servers';
import { withTranscodeWorkers } from './support/transcode-workers';

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

const codecs: Record<string, string> = {
  '2160p': 'h264',
  '1080p': 'h264',
  '480p': 'h264',
  'source-size': 'h264',
  'preview-gif': 'gif',
  poster: 'mjpeg',
};

/** What each upload must get, by source size: rendition → [width, height]. */
const expectedLadders: Record<string, Record<string, [number, number]>> = {
  '2x2': { 'source-size': [2, 2], 'preview-gif': [2, 2], poster: [2, 2] },
  '64x64': { 'source-size': [64, 64], 'preview-gif': [64, 64], poster: [64, 64] },
  '640x360': { 'source-size': [640, 360], 'preview-gif': [426, 240], poster: [640, 360] },
  '360x640': { 'source-size': [360, 640], 'preview-gif': [240, 426], poster: [360, 640] },
  '1920x1080': { '1080p': [1920, 1080], '480p': [854, 480], 'preview-gif': [426, 240], poster: [1280, 720] },
  '3840x2160': {
    '2160p': [3840, 2160],
    '1080p': [1920, 1080],
    '480p': [854, 480],
    'preview-gif': [426, 240],
    poster: [1280, 720],
  },
};

interface Transcoded {
  name: string;
  sha256: string;
  source: SourceVideo;
  renditions: RenditionReport[];
  manifestUri: string;
}

async function resultLines(dir: string): Promise<ResultLine[]> {
  const lines: ResultLine[] = [];
  for await (const line of readResultLines(dir)) lines.push(line);
  return lines;
}

describe('transcode flow on the pipeline engine (dev server, real ffmpeg)', function () {
  let env: TestWorkflowEnvironment;
  let store: BlobStore;
  let inputs: string[];
  let corrupt: string;

  before(async () => {
    env = await sharedDevServer();
    store = new BlobStore(outputFolder('transcode-blobs'));
    // Tiny sources (cached between test runs): the large ones are 1 s at 5 fps so they encode quickly.
    const dir = path.join(repoRoot, 'test-output', 'transcode-inputs');
    inputs = await generateSampleVideos(dir, () => undefined, [
      { source: 'testsrc2', width: 2, height: 2, seconds: 1, fps: 10 },
      { source: 'testsrc2', width: 64, height: 64, seconds: 1, fps: 10 },
      { source: 'testsrc2', width: 640, height: 360, seconds: 2, fps: 10 },
      { source: 'mandelbrot', width: 360, height: 640, seconds: 1, fps: 10 },
      { source: 'testsrc', width: 1920, height: 1080, seconds: 1, fps: 5 },
      { source: 'testsrc2', width: 3840, height: 2160, seconds: 1, fps: 5 },
    ]);
    corrupt = path.join(dir, 'corrupt.mp4');
    fs.writeFileSync(corrupt, Buffer.concat([Buffer.from('000000186674797069736f6d', 'hex'), Buffer.alloc(4000, 7)]));
  });

  /** Uploads the files and runs the flow with in-process workers. */
  async function transcodeRun(runName: string, files: string[]) {
    const config = isolatedConfig(env.address);
    const uploads = await uploadFiles(store, await collect(new ListSource(files)));
    return withTranscodeWorkers(env, config, store, async () => {
      const handle = await startTranscodeRun(env.client, config, { runName, uploads });
      const result = await handle.result();
      const progress = await handle.query(pipelineProgressQuery);
      assert.ok(result.results, 'the run summarized its results parts');
      const lines = await resultLines(result.results.dir);
      return { config, uploads, result, handle, progress, lines };
    });
  }

  const transcodedOf = (lines: ResultLine[], name: string): Transcoded => {
    const line = lines.find((l) => l.data?.name === name || l.input?.data.name === name);
    assert.ok(line?.status === 'completed', `${name} was transcoded: ${JSON.stringify(line)}`);
    return line.data as unknown as Transcoded;
  };

  let first: Awaited<ReturnType<typeof transcodeRun>>;
  const runName = `t-${process.pid}`;

  it('renders a ladder never above the source, and dead-letters a corrupt upload with its reason', async () => {
    first = await transcodeRun(runName, [...inputs, corrupt]);
    const { result, progress, lines } = first;
    assert.deepEqual(
      [result.total, result.completed, result.deadLettered],
      [7, 6, 1],
      'six uploads transcoded, the corrupt one dead-lettered',
    );
    assert.deepEqual(
      { total: progress.total, done: progress.done, completed: progress.completed, dead: progress.deadLettered },
      { total: 7, done: 7, completed: 6, dead: 1 },
    );

    const letter = lines.find((l) => l.status === 'deadLettered');
    assert.ok(letter, 'the corrupt upload has its line');
    assert.equal(letter.input?.data.name, 'corrupt.mp4');
    assert.equal(letter.stage, 'probe');
    assert.equal(letter.error?.type, 'InvalidInput');
    assert.match(letter.error!.message, /^Cannot read upload "corrupt\.mp4" as a video: ffprobe says ".+"/);
    assert.match(letter.error!.message, /not a video or is corrupt/);

    for (const input of inputs) {
      const transcoded = transcodedOf(lines, path.basename(input));
      const { source } = transcoded;
      const expected = expectedLadders[`${source.width}x${source.height}`];
      assert.ok(expected, `a source of ${source.width}x${source.height}`);
      assert.deepEqual(
        transcoded.renditions.map((r) => r.rendition),
        Object.keys(expected),
        `${transcoded.name}: the ladder`,
      );
      for (const r of transcoded.renditions) {
        const file = store.pathOf(renditionUri(transcoded.sha256, r.rendition));
        const read = await probe(file);
        assert.deepEqual([read.codec, read.width, read.height], [codecs[r.rendition], ...expected[r.rendition]], file);
        assert.ok(read.width <= source.width && read.height <= source.height, `${file} is not above the source`);
        assert.ok(read.bytes > 0 && read.bytes < 5e6, `${file}: ${read.bytes} bytes`);
        if (r.rendition !== 'poster') {
          const seconds = Math.min(r.rendition === 'preview-gif' ? 3 : Infinity, source.durationSeconds);
          assert.ok(
            Math.abs(read.durationSeconds! - seconds) < 0.3,
            `${file}: ${read.durationSeconds} s ≈ ${seconds} s`,
          );
        }
      }

      const manifest = JSON.parse(fs.readFileSync(store.pathOf(transcoded.manifestUri), 'utf8')) as TranscodeManifest;
      assert.equal(manifest.source.sha256, transcoded.sha256);
      assert.deepEqual(
        manifest.renditions.map((r) => r.rendition),
        transcoded.renditions.map((r) => r.rendition),
      );
      for (const entry of manifest.renditions) {
        const { codec, width, height, durationSeconds, bytes } = entry;
        assert.deepEqual(
          { codec, width, height, durationSeconds, bytes },
          await probe(store.pathOf(entry.uri)),
          `manifest entry ${entry.rendition} of ${transcoded.name}`,
        );
      }
    }
    assert.deepEqual(
      listFiles(store.root).filter((f) => path.basename(f).startsWith('.')),
      [],
      'no temporary files left',
    );
  });

  it('summarizes failures by reason with examples and points to every upload’s line', async () => {
    const { result, lines } = first;
    assert.equal(lines.length, 7, 'one line per upload in the results parts');
    assert.match(result.results!.dir, new RegExp(`results/transcode/${runName}$`));
    assert.ok(fs.existsSync(path.join(result.results!.dir, 'part-00000.jsonl')));
    const summary = formatTranscodeSummary({
      result,
      lines: await readSummaryLines(result.results!.dir, result.results!.failureGroups),
      store,
      webUi: 'http://ui',
    }).join('\n');
    assert.match(summary, /^Transcode run .+: 7 uploads, 6 transcoded, 1 failed$/m);
    assert.match(summary, /^Failed, by reason:\n {2}1 × at probe \[InvalidInput\]: Cannot read upload "…" as a video/m);
    assert.match(summary, /^ {6}e\.g\. corrupt\.mp4: Cannot read upload "corrupt\.mp4"/m);
    assert.match(summary, new RegExp(`^Every upload's outcome: .*results/transcode/${runName}/part-\\*\\.jsonl`, 'm'));
    assert.match(summary, /^ {6}source-size +h264 +64x64 /m);
  });

  it('is findable in the Web UI: the run and its partitions carry BatchPipeline "transcode"', async () => {
    const run = await first.handle.describe();
    assert.equal(run.workflowId, `transcode/${runName}`);
    assert.equal(run.typedSearchAttributes.get(BatchPipeline), 'transcode');
    assert.equal(run.typedSearchAttributes.get(BatchRun), runName);
    assert.equal(run.typedSearchAttributes.get(BatchStage), 'done');
    const partition = await env.client.workflow.getHandle(`transcode/${runName}/p0`).describe();
    assert.equal(partition.status.name, 'COMPLETED');
    assert.equal(partition.typedSearchAttributes.get(BatchPipeline), 'transcode');
    assert.equal(partition.typedSearchAttributes.get(BatchRun), runName);
  });

  it('refuses a second run under a name already used', async () => {
    const config = isolatedConfig(env.address);
    await assert.rejects(
      startTranscodeRun(env.client, config, { runName, uploads: first.uploads }),
      new RegExp(`already a transcode run named "${runName}".*choose another --run name`),
    );
  });

  it('does not render the same bytes twice: a second run keeps the files of the first', async () => {
    const landscape = inputs[2];
    const before = transcodedOf(first.lines, path.basename(landscape)).renditions.map((r) => {
      const st = fs.statSync(store.pathOf(renditionUri(first.uploads[2].sha256, r.rendition)));
      return { rendition: r.rendition, mtimeMs: st.mtimeMs, ino: st.ino };
    });
    // The same file twice and a copy under another name, in a new run: one upload, nothing rendered.
    const copy = path.join(outputFolder('transcode-copy'), 'same-bytes.mp4');
    fs.copyFileSync(landscape, copy);
    const again = await transcodeRun(`${runName}-again`, [landscape, landscape, copy]);
    assert.equal(again.uploads.length, 1);
    assert.equal(again.uploads[0].uri, first.uploads[2].uri);
    const transcoded = transcodedOf(again.lines, path.basename(landscape));
    assert.deepEqual(
      transcoded.renditions.map((r) => [r.rendition, r.reused]),
      before.map((b) => [b.rendition, true]),
    );
    const after = transcoded.renditions.map((r) => {
      const st = fs.statSync(store.pathOf(renditionUri(transcoded.sha256, r.rendition)));
      return { rendition: r.rendition, mtimeMs: st.mtimeMs, ino: st.ino };
    });
    assert.deepEqual(after, before, 'same files, untouched');
  });
});
