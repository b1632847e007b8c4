/**
 * The video-thumbnailer activities against real ffmpeg and sharp, run in a MockActivityEnvironment: sample videos,
 * frame extraction, thumbnails, contact sheet, clear non-retryable errors for bad input, idempotent retries and
 * cancellation. Everything is written to a temporary folder that is removed afterwards.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import sharp from 'sharp';
import { INVALID_INPUT } from '../src/activities/errors';
import { fileExists, writeAtomically } from '../src/infra/atomic-write';
import { extractFrame, makeContactSheet, makeThumbnails } from '../src/activities/thumbnailer';
import { contactSheetLayout } from '../src/activities/thumbnailer/contact-sheet';
import { probeVideo } from '../src/activities/media/probe';
import { DEFAULT_THUMBNAIL_SIZES, type ExtractedFrame, type ThumbnailSpec } from '../src/activities/thumbnailer/types';
import { generateSampleVideos } from '../src/devstack/sample-videos';
import { programExists } from '../src/infra/exec';
import { ffmpegPath, ffprobePath, runMediaTool } from '../src/activities/media/ffmpeg';
import { ensureFfmpeg } from '../src/devstack/tools/ffmpeg-install';

/** Activity environment whose logger stays quiet about the failures these tests provoke on purpose. */
function activityEnv(heartbeatTimeoutMs?: number): MockActivityEnvironment {
  return new MockActivityEnvironment({ heartbeatTimeoutMs }, { logger: new DefaultLogger('ERROR') });
}

/** `env.run` with the activity's result type (MockActivityEnvironment.run cannot infer it from the function). */
function run<A extends unknown[], R>(
  env: MockActivityEnvironment,
  fn: (...args: A) => Promise<R>,
  ...args: A
): Promise<R> {
  return env.run(fn, ...args) as Promise<R>;
}

/** Every file below `dir`, relative. */
function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

/** Deterministic "random" bytes (xorshift32), so the corrupt-file test is reproducible. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

async function expectInvalidInput(promise: Promise<unknown>, fileName: string): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, INVALID_INPUT);
    assert.equal(err.nonRetryable, true);
    assert.ok(err.message.includes(fileName), `message names ${fileName}: ${err.message}`);
    return err;
  }
  assert.fail(`expected an InvalidInput failure for ${fileName}`);
}

describe('video thumbnailer activities (real ffmpeg and sharp)', function () {
  this.timeout(120_000);

  let root: string;
  let samplesDir: string;
  let outputDir: string;
  let videos: string[];
  const frames = new Map<string, ExtractedFrame>();
  const timings: Record<string, number> = {};

  before(async function () {
    this.timeout(300_000);
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'media-test-'));
    samplesDir = path.join(root, 'samples');
    outputDir = path.join(root, 'out');
    const started = Date.now();
    videos = await generateSampleVideos(samplesDir, () => undefined);
    timings.sampleGenerationMs = Date.now() - started;
  });

  after(() => {
    if (Object.keys(timings).length > 0) console.log(`      timings: ${JSON.stringify(timings)}`);
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  describe('tools', () => {
    it('finds runnable ffmpeg and ffprobe binaries', async () => {
      for (const program of [ffmpegPath(), ffprobePath()]) {
        const result = await runMediaTool(program, ['-hide_banner', '-version']);
        assert.equal(result.exitCode, 0, `${program} -version`);
        assert.match(result.stdout, /version/);
      }
    });

    it('uses a maintained ffmpeg from PATH, printing its version, and the npm binaries only as a fallback', async () => {
      const lines: string[] = [];
      const tools = await ensureFfmpeg((line) => lines.push(line));
      assert.match(tools.ffmpegVersion, /^ffmpeg version \S+/);
      assert.match(tools.ffprobeVersion, /^ffprobe version \S+/);
      assert.ok(
        lines.some((l) => l.includes(tools.ffmpegVersion)),
        `the version is printed: ${lines.join(' | ')}`,
      );
      if (process.getuid?.() === 0 && programExists('apt-get', '--version') && !process.env.FFMPEG_PATH) {
        // Set-up (which runs before `npm test`) installs Debian's package here, so the old static build is not used.
        assert.ok(!tools.ffmpeg.includes('node_modules'), `system ffmpeg, not ${tools.ffmpeg}`);
        assert.ok(!tools.ffprobe.includes('node_modules'), `system ffprobe, not ${tools.ffprobe}`);
      }

      // With no ffmpeg on PATH and nothing to install it with, the npm binaries are used, with a warning.
      const saved = {
        PATH: process.env.PATH,
        FFMPEG_PATH: process.env.FFMPEG_PATH,
        FFPROBE_PATH: process.env.FFPROBE_PATH,
      };
      const emptyDir = fs.mkdtempSync(path.join(root, 'empty-path-'));
      process.env.PATH = emptyDir;
      delete process.env.FFMPEG_PATH;
      delete process.env.FFPROBE_PATH;
      const fallbackLines: string[] = [];
      try {
        const fallback = await ensureFfmpeg((line) => fallbackLines.push(line));
        assert.ok(fallback.ffmpeg.includes('node_modules'), fallback.ffmpeg);
        assert.match(fallback.ffmpegVersion, /^ffmpeg version/);
      } finally {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
      assert.ok(
        fallbackLines.some((l) => /WARNING: no ffmpeg on PATH.*apt-get install -y ffmpeg/.test(l)),
        fallbackLines.join(' | '),
      );
    });

    it('kills the child and rejects with the abort reason when aborted', async () => {
      const controller = new AbortController();
      const reason = new Error('stop now');
      const started = Date.now();
      const running = runMediaTool(
        ffmpegPath(),
        ['-hide_banner', '-nostdin', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720', '-f', 'null', '-'],
        {
          signal: controller.signal,
        },
      );
      setTimeout(() => controller.abort(reason), 300);
      await assert.rejects(running, (err) => err === reason);
      assert.ok(Date.now() - started < 10_000, 'stopped promptly');
    });
  });

  describe('writeAtomically', () => {
    it('leaves the previous file and no temp file behind when producing fails', async () => {
      const dir = path.join(root, 'atomic');
      const target = path.join(dir, 'data.txt');
      await writeAtomically(target, (tmp) => fs.promises.writeFile(tmp, 'first'));
      let tmpSeen = '';
      await assert.rejects(
        writeAtomically(target, async (tmp) => {
          tmpSeen = tmp;
          await fs.promises.writeFile(tmp, 'half of the sec');
          throw new Error('producer crashed');
        }),
        /producer crashed/,
      );
      assert.equal(fs.readFileSync(target, 'utf8'), 'first');
      assert.match(path.basename(tmpSeen), /^\.data\.\d+\.[0-9a-f]+\.tmp\.txt$/);
      assert.deepEqual(fs.readdirSync(dir), ['data.txt']);
      assert.equal(await fileExists(path.join(dir, 'missing.txt')), false);
      assert.equal(await fileExists(dir), false, 'a folder is not a file');
    });
  });

  describe('sample videos', () => {
    it('makes valid short H.264 videos of several sizes, and reuses them on a second call', async () => {
      assert.equal(videos.length, 5);
      const sizes = new Set<string>();
      for (const video of videos) {
        const info = await probeVideo(video);
        const [, w, h] = /-(\d+)x(\d+)\.mp4$/.exec(video) ?? [];
        assert.equal(info.codec, 'h264');
        assert.equal(info.width, Number(w), `${path.basename(video)} width`);
        assert.equal(info.height, Number(h), `${path.basename(video)} height`);
        assert.ok(
          info.durationSeconds >= 1.9 && info.durationSeconds <= 4.1,
          `${path.basename(video)} lasts ${info.durationSeconds} s`,
        );
        sizes.add(`${w}x${h}`);
      }
      assert.ok(sizes.has('360x640'), 'there is a portrait video');
      assert.equal(sizes.size, 5);

      const lines: string[] = [];
      const mtimes = videos.map((v) => fs.statSync(v).mtimeMs);
      assert.deepEqual(await generateSampleVideos(samplesDir, (l) => lines.push(l)), videos);
      assert.deepEqual(
        videos.map((v) => fs.statSync(v).mtimeMs),
        mtimes,
      );
      assert.ok(
        lines.every((l) => /exists/.test(l)),
        lines.join('\n'),
      );
      assert.ok(listFiles(samplesDir).every((f) => !f.includes('.tmp')));
    });
  });

  describe('extractFrame', () => {
    it('writes a PNG of the video size, taken after the start, and heartbeats', async () => {
      const env = activityEnv(300);
      let heartbeats = 0;
      env.on('heartbeat', () => heartbeats++);
      for (const video of videos) {
        const itemId = path.basename(video, '.mp4');
        const info = await probeVideo(video);
        const started = Date.now();
        const frame = await run(env, extractFrame, { itemId, videoPath: video, outputDir });
        timings[`extractFrame:${itemId}Ms`] = Date.now() - started;
        frames.set(video, frame);
        assert.equal(frame.itemId, itemId);
        assert.equal(frame.framePath, path.join(outputDir, itemId, 'frame.png'));
        const meta = await sharp(frame.framePath).metadata();
        assert.equal(meta.format, 'png');
        assert.equal(meta.width, info.width);
        assert.equal(meta.height, info.height);
        assert.equal(frame.width, info.width);
        assert.equal(frame.height, info.height);
        assert.deepEqual(frame.video, info);
        assert.ok(frame.atSeconds > 0, `${itemId}: frame at ${frame.atSeconds} s is not the first one`);
        assert.ok(
          frame.atSeconds < info.durationSeconds,
          `${itemId}: frame at ${frame.atSeconds} s is inside the video`,
        );
      }
      assert.ok(heartbeats >= videos.length, `heartbeated ${heartbeats} times`);
    });

    it('is idempotent: a second call returns the same frame and leaves no temp files', async () => {
      const video = videos[0];
      const itemId = 'twice';
      const env = activityEnv();
      const first = await run(env, extractFrame, { itemId, videoPath: video, outputDir });
      const firstStat = fs.statSync(first.framePath);
      const second = await run(env, extractFrame, { itemId, videoPath: video, outputDir });
      assert.deepEqual(second, first);
      assert.equal(fs.statSync(second.framePath).mtimeMs, firstStat.mtimeMs, 'the complete frame was reused');
      assert.deepEqual(listFiles(path.join(outputDir, itemId)), ['frame.json', 'frame.png']);

      // A damaged frame (say, edited by hand) is not reused but made again.
      fs.writeFileSync(first.framePath, 'not a png');
      const third = await run(env, extractFrame, { itemId, videoPath: video, outputDir });
      assert.equal(third.framePath, first.framePath);
      assert.equal(third.atSeconds, first.atSeconds);
      assert.equal((await sharp(third.framePath).metadata()).format, 'png');
      assert.ok(
        listFiles(outputDir).every((f) => !f.includes('.tmp')),
        'no temp files',
      );
    });

    it('fails with a non-retryable InvalidInput naming the file for a corrupt .mp4, a text file and a missing file', async () => {
      const badDir = path.join(root, 'bad');
      fs.mkdirSync(badDir, { recursive: true });
      const corrupt = path.join(badDir, 'corrupt-random.mp4');
      fs.writeFileSync(corrupt, pseudoRandomBytes(64 * 1024, 12345));
      const corruptHeader = path.join(badDir, 'corrupt-header.mp4');
      fs.writeFileSync(
        corruptHeader,
        Buffer.concat([Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70]), Buffer.alloc(4000, 7)]),
      );
      const text = path.join(badDir, 'notes.txt');
      fs.writeFileSync(text, 'These are notes, not a video.\n');
      const missing = path.join(badDir, 'missing.mp4');
      const empty = path.join(badDir, 'empty.mp4');
      fs.writeFileSync(empty, '');

      const env = activityEnv();
      for (const file of [corrupt, corruptHeader, text, missing, empty]) {
        const failure = await expectInvalidInput(
          run(env, extractFrame, { itemId: path.basename(file), videoPath: file, outputDir }),
          path.basename(file),
        );
        if (process.env.SHOW_MESSAGES) console.log(`      ${failure.message}`);
        if (file === missing) assert.match(failure.message, /does not exist/);
        else assert.match(failure.message, /check the file or remove it from the batch/i);
        await expectInvalidInput(probeVideo(file), path.basename(file));
      }
      for (const file of [corrupt, corruptHeader, text, missing, empty]) {
        assert.equal(fs.existsSync(path.join(outputDir, path.basename(file))), false, 'no output for bad input');
      }
    });

    it('picks a representative frame among those up to the seek point, skipping a black one there, decoding no further', async () => {
      // 6 s at 25 fps, one keyframe (x264's default interval): the seek point is 2.000 s, where 3 frames are black.
      const video = path.join(root, 'black-at-seek.mp4');
      const made = await runMediaTool(ffmpegPath(), [
        ...['-hide_banner', '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '6'],
        ...['-vf', "drawbox=c=black:t=fill:enable='between(t,1.95,2.05)'", '-c:v', 'libx264', '-pix_fmt', 'yuv420p'],
        ...['-y', video],
      ]);
      assert.equal(made.exitCode, 0, made.stderr);
      const warnings: string[] = [];
      const env = new MockActivityEnvironment(
        {},
        { logger: new DefaultLogger('WARN', (e) => warnings.push(e.message)) },
      );
      const frame = await run(env, extractFrame, { itemId: 'black-at-seek', videoPath: video, outputDir });
      assert.deepEqual(warnings, [], 'the window before the seek point gave a frame (no fallback to the start)');
      // Before: the window was the 2 s after the seek point (50 more frames decoded than `ffmpeg -ss 2 -i … -frames:v 1`).
      assert.ok(frame.atSeconds >= 1 && frame.atSeconds <= 2.04, `frame at ${frame.atSeconds} s: within [1, 2.04]`);
      const { channels } = await sharp(frame.framePath).stats();
      const mean = channels.slice(0, 3).reduce((sum, c) => sum + c.mean, 0) / 3;
      assert.ok(mean > 40, `the frame is not the black one (mean level ${mean.toFixed(1)})`);
    });

    it('rejects item ids that are not a single folder name', async () => {
      const env = activityEnv();
      for (const itemId of ['', '..', 'a/b']) {
        await assert.rejects(run(env, extractFrame, { itemId, videoPath: videos[0], outputDir }), (err) => {
          return err instanceof ApplicationFailure && err.type === INVALID_INPUT && err.nonRetryable;
        });
      }
    });

    it('stops with a CancelledFailure and writes nothing when the activity is cancelled', async () => {
      const env = activityEnv();
      env.cancel();
      await assert.rejects(
        run(env, extractFrame, { itemId: 'cancelled', videoPath: videos[3], outputDir }),
        (err) => err instanceof CancelledFailure,
      );
      assert.equal(fs.existsSync(path.join(outputDir, 'cancelled')), false);
    });

    it('kills ffmpeg when cancelled while it runs, leaving neither a frame nor a temp file', async () => {
      const env = activityEnv();
      const stages: string[] = [];
      env.on('heartbeat', (details: { stage: string }) => {
        stages.push(details.stage);
        if (details.stage === 'ffmpeg') env.cancel();
      });
      await assert.rejects(
        run(env, extractFrame, { itemId: 'cancelled-mid-run', videoPath: videos[3], outputDir }),
        (err) => err instanceof CancelledFailure,
      );
      assert.ok(stages.includes('ffmpeg'), `ffmpeg was started (heartbeats: ${stages.join(', ')})`);
      assert.deepEqual(listFiles(path.join(outputDir, 'cancelled-mid-run')), []);
    });
  });

  describe('makeThumbnails', () => {
    it('writes every requested width and format, keeping the aspect ratio', async () => {
      const sizes: ThumbnailSpec[] = [...DEFAULT_THUMBNAIL_SIZES, { width: 100, format: 'png' }];
      const env = activityEnv();
      for (const video of videos) {
        const frame = frames.get(video);
        assert.ok(frame, 'extractFrame ran first');
        const thumbs = await run(env, makeThumbnails, {
          itemId: frame.itemId,
          framePath: frame.framePath,
          outputDir,
          sizes,
        });
        assert.equal(thumbs.length, sizes.length);
        for (const [i, spec] of sizes.entries()) {
          const thumb = thumbs[i];
          const ext = { jpeg: 'jpg', webp: 'webp', png: 'png' }[spec.format];
          assert.equal(thumb.path, path.join(outputDir, frame.itemId, `thumb-${spec.width}.${ext}`));
          const meta = await sharp(thumb.path).metadata();
          assert.equal(meta.format, spec.format);
          assert.equal(meta.width, spec.width);
          assert.equal(meta.height, Math.round((spec.width * frame.height) / frame.width));
          assert.deepEqual(
            { width: thumb.width, height: thumb.height, format: thumb.format, bytes: thumb.bytes },
            { width: meta.width, height: meta.height, format: spec.format, bytes: fs.statSync(thumb.path).size },
          );
        }
      }
      assert.ok(
        listFiles(outputDir).every((f) => !f.includes('.tmp')),
        'no temp files',
      );
    });

    it('fails non-retryably for a missing frame or bad sizes', async () => {
      const env = activityEnv();
      const missing = path.join(root, 'no-such-frame.png');
      await expectInvalidInput(
        run(env, makeThumbnails, { itemId: 'x', framePath: missing, outputDir, sizes: DEFAULT_THUMBNAIL_SIZES }),
        'no-such-frame.png',
      );
      const frame = frames.get(videos[0])!;
      for (const sizes of [[], [{ width: 0, format: 'jpeg' }], [{ width: 100, format: 'gif' }]] as ThumbnailSpec[][]) {
        await assert.rejects(
          run(env, makeThumbnails, { itemId: frame.itemId, framePath: frame.framePath, outputDir, sizes }),
          (err) => err instanceof ApplicationFailure && err.type === INVALID_INPUT && err.nonRetryable,
        );
      }
    });
  });

  describe('makeContactSheet', () => {
    it('makes one JPEG grid of all entries with the expected size', async () => {
      const env = activityEnv();
      const entries = videos.map((video) => {
        const frame = frames.get(video)!;
        return { itemId: frame.itemId, thumbnailPath: path.join(outputDir, frame.itemId, 'thumb-320.jpg') };
      });
      const sheet = await run(env, makeContactSheet, { outputDir, entries });
      // 5 tiles: 3 columns x 2 rows of 320x180 cells with 8 px gaps.
      assert.deepEqual(sheet, {
        path: path.join(outputDir, 'contact-sheet.jpg'),
        width: 3 * 320 + 4 * 8,
        height: 2 * 180 + 3 * 8,
        tiles: 5,
      });
      const meta = await sharp(sheet.path).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.equal(meta.width, sheet.width);
      assert.equal(meta.height, sheet.height);

      const narrow = await run(env, makeContactSheet, { outputDir, entries, columns: 2, tileWidth: 160 });
      const layout = contactSheetLayout(5, 2, 160);
      assert.equal(layout.rows, 3);
      assert.deepEqual([narrow.width, narrow.height], [layout.width, layout.height]);
      assert.deepEqual([narrow.width, narrow.height], [2 * 160 + 3 * 8, 3 * 90 + 4 * 8]);
      const narrowMeta = await sharp(narrow.path).metadata();
      assert.deepEqual([narrowMeta.format, narrowMeta.width, narrowMeta.height], ['jpeg', narrow.width, narrow.height]);
      assert.ok(
        listFiles(outputDir).every((f) => !f.includes('.tmp')),
        'no temp files',
      );
    });

    it('fails non-retryably with no entries or a missing thumbnail', async () => {
      const env = activityEnv();
      await assert.rejects(
        run(env, makeContactSheet, { outputDir, entries: [] }),
        (err) => err instanceof ApplicationFailure && err.type === INVALID_INPUT && err.nonRetryable,
      );
      await expectInvalidInput(
        run(env, makeContactSheet, {
          outputDir,
          entries: [{ itemId: 'gone', thumbnailPath: path.join(root, 'gone-320.jpg') }],
        }),
        'gone-320.jpg',
      );
    });
  });
});
