/**
 * Hostile media against the real ffprobe/ffmpeg (the system's and the npm fallback binaries): playlists that name
 * files or URLs outside the upload, pictures too large to decode, ffprobe output of any shape, odd paths, a crashing
 * ffprobe. Each must end as that item's non-retryable InvalidInput with a reason — never a read of the secret, a
 * request, a crash of the worker or a retry loop. The fuzzing seed is printed: FUZZ_SEED=<seed> replays a failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import fc from 'fast-check';
import sharp from 'sharp';
import { INVALID_INPUT } from '../src/activities/errors';
import { invalidInputOf } from './support/media';
import { extractFrame } from '../src/activities/media/extract-frame';
import { probeVideo } from '../src/activities/media/probe';
import { MAX_DURATION_SECONDS, MAX_PIXELS, MAX_SIDE, videoProbeOf } from '../src/activities/media/probe-output';
import { refusedInputReason, safeInputOptions } from '../src/activities/media/safe-input';
import {
  ffmpegFileArg,
  ffmpegPath,
  ffprobePath,
  MediaToolLimitError,
  runMediaTool,
} from '../src/activities/media/ffmpeg';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

function activityEnv(): MockActivityEnvironment {
  return new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
}

/** Everything a failure tells the user or the workflow history. */
const shown = (failure: ApplicationFailure) => `${failure.message} ${JSON.stringify(failure.details)}`;

async function makeVideo(file: string, lavfi: string, seconds: number, format: string, codec: string): Promise<void> {
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', lavfi, '-t', String(seconds)];
  args.push('-c:v', codec, '-pix_fmt', 'yuv420p', '-f', format, '-y', ffmpegFileArg(file));
  const result = await runMediaTool(ffmpegPath(), args, { timeoutMs: 60_000 });
  assert.equal(result.exitCode, 0, result.stderr);
}

/** Runs `fn` with FFMPEG_PATH / FFPROBE_PATH set as given (undefined: unset), restoring them afterwards. */
async function withTools<T>(tools: { ffmpeg?: string; ffprobe?: string }, fn: () => Promise<T>): Promise<T> {
  const saved = { FFMPEG_PATH: process.env.FFMPEG_PATH, FFPROBE_PATH: process.env.FFPROBE_PATH };
  const set = (name: string, value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  set('FFMPEG_PATH', tools.ffmpeg);
  set('FFPROBE_PATH', tools.ffprobe);
  try {
    return await fn();
  } finally {
    set('FFMPEG_PATH', saved.FFMPEG_PATH);
    set('FFPROBE_PATH', saved.FFPROBE_PATH);
  }
}

describe(`hostile media files (real ffmpeg/ffprobe; fast-check seed ${seed})`, function () {
  this.timeout(60_000);

  let root: string;
  let uploads: string;
  let outputDir: string;
  let secretDir: string;
  let secretText: string;
  let clip: string;
  let server: http.Server;
  const requests: string[] = [];
  let port = 0;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'media-hostile-'));
    uploads = path.join(root, 'uploads');
    outputDir = path.join(root, 'out');
    secretDir = path.join(root, 'secret');
    fs.mkdirSync(uploads, { recursive: true });
    fs.mkdirSync(secretDir, { recursive: true });
    // The secrets live outside the upload folder: a private video of an odd size and a text file.
    await makeVideo(path.join(secretDir, 'private.ts'), 'testsrc=size=96x32:rate=5', 1, 'mpegts', 'mpeg2video');
    secretText = `TOP-SECRET-${process.pid}-${Date.now()}`;
    fs.writeFileSync(path.join(secretDir, 'secret.txt'), `${secretText}\n`);
    clip = path.join(root, 'clip.mp4');
    await makeVideo(clip, 'testsrc=size=64x48:rate=5', 1, 'mp4', 'libx264');
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      res.end('#EXTM3U\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** Playlists that point outside the upload: local files, a sub-file of one, and URLs on this machine. */
  function playlists(): Record<string, string> {
    const privateVideo = path.join(secretDir, 'private.ts');
    const hls = (segment: string, extra = '') =>
      `#EXTM3U\n#EXT-X-TARGETDURATION:10\n${extra}#EXTINF:1,\n${segment}\n#EXT-X-ENDLIST\n`;
    return {
      'hls.m3u8': hls(privateVideo),
      'hls-named.mp4': hls(privateVideo),
      'hls-file-url.mp4': hls(`file:${privateVideo}`),
      'hls-subfile.mp4': hls(`subfile,,start,0,end,0,,:${privateVideo}`),
      'hls-http.mp4': hls(`http://127.0.0.1:${port}/segment.ts`),
      'hls-key.mp4': hls(privateVideo, `#EXT-X-KEY:METHOD=AES-128,URI="http://127.0.0.1:${port}/key"\n`),
      'concat.mp4': `ffconcat version 1.0\nfile '/etc/hostname'\nfile '${privateVideo}'\n`,
      'concat-secret.mkv': `ffconcat version 1.0\nfile '${path.join(secretDir, 'secret.txt')}'\n`,
    };
  }

  it('refuses playlists (HLS, ffconcat, even named .mp4) as InvalidInput without reading what they name', async () => {
    const env = activityEnv();
    const npmBinaries = {
      ffmpeg: (require('@ffmpeg-installer/ffmpeg') as { path: string }).path,
      ffprobe: (require('@ffprobe-installer/ffprobe') as { path: string }).path,
    };
    // The system's maintained ffmpeg, and the old npm binaries set-up falls back to (whose ffprobe segfaults on HLS).
    for (const [tools, label] of [
      [{}, 'system'],
      [npmBinaries, 'npm'],
    ] as const) {
      for (const [name, content] of Object.entries(playlists())) {
        const file = path.join(uploads, name);
        fs.writeFileSync(file, content);
        const what = `${name} (${label} ffmpeg)`;
        const probed = await withTools(tools, () => invalidInputOf(probeVideo(file), what));
        assert.ok(probed.message.includes(file), `${what}: the message names the file: ${probed.message}`);
        assert.match(probed.message, /playlist or reference file .* playlists are refused, upload the video/, what);
        const itemId = `${label}-${name}`;
        const extracted = await withTools(tools, () =>
          invalidInputOf(env.run(extractFrame, { itemId, videoPath: file, outputDir }), what),
        );
        for (const text of [shown(probed), shown(extracted)]) {
          assert.ok(!text.includes(secretText), `${what}: the secret text leaked: ${text}`);
          assert.ok(!/96x32|\b96\b/.test(text), `${what}: facts of the private video leaked: ${text}`);
        }
        assert.equal(fs.existsSync(path.join(outputDir, itemId)), false, `${what}: no output`);
      }
    }
    assert.deepEqual(requests, [], 'no request reached the local HTTP server');
  });

  it('makes ffprobe and ffmpeg themselves refuse playlists and other protocols (the options every call passes)', async () => {
    const npm = {
      ffmpeg: (require('@ffmpeg-installer/ffmpeg') as { path: string }).path,
      ffprobe: (require('@ffprobe-installer/ffprobe') as { path: string }).path,
    };
    const playlist = path.join(uploads, 'raw-hls.m3u8');
    fs.writeFileSync(playlist, playlists()['hls.m3u8']);
    const concat = path.join(uploads, 'raw-concat.mp4');
    fs.writeFileSync(concat, playlists()['concat.mp4']);
    for (const program of [ffprobePath(), ffmpegPath(), npm.ffprobe, npm.ffmpeg]) {
      const inputs = [ffmpegFileArg(playlist), ffmpegFileArg(concat), `http://127.0.0.1:${port}/x.mp4`];
      inputs.push(`subfile,,start,0,end,0,,:${path.join(secretDir, 'private.ts')}`);
      for (const input of inputs) {
        const isFfmpeg = path.basename(program).startsWith('ffmpeg');
        const args = ['-hide_banner', ...(isFfmpeg ? ['-nostdin'] : []), '-v', 'error', ...safeInputOptions()];
        args.push('-i', input, ...(isFfmpeg ? ['-frames:v', '1', '-f', 'null', '-'] : []));
        const result = await runMediaTool(program, args, { timeoutMs: 30_000 });
        const what = `${program} ${input}`;
        assert.equal(result.exitSignal, null, `${what} did not crash`);
        assert.notEqual(result.exitCode, 0, `${what} refused`);
        assert.ok(refusedInputReason(result.stderr), `${what}: refused by the allowlists: ${result.stderr}`);
      }
    }
    assert.deepEqual(requests, []);
  });

  it('reads a path only as a local file: URLs, protocols, a NUL byte and a pipe are refused, never opened', async () => {
    const hostilePaths = [
      `http://127.0.0.1:${port}/video.mp4`,
      `subfile,,start,0,end,100,,:${path.join(secretDir, 'private.ts')}`,
      `concat:${path.join(secretDir, 'private.ts')}|${clip}`,
    ];
    for (const videoPath of hostilePaths) {
      const failure = await invalidInputOf(probeVideo(videoPath), videoPath);
      assert.match(failure.message, /does not exist/, videoPath);
    }
    const nul = await invalidInputOf(probeVideo(`${clip}\0.txt`), 'NUL');
    assert.match(nul.message, /contains a NUL byte/);
    const fifo = path.join(uploads, 'pipe.mp4');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    const pipe = await invalidInputOf(probeVideo(fifo), 'FIFO');
    assert.match(pipe.message, /not a regular file/);
    assert.deepEqual(requests, []);
  });

  it('handles a file whose name has a newline and leading dashes as the file it is, not as options', async () => {
    const dir = path.join(root, '-y');
    fs.mkdirSync(dir, { recursive: true });
    const odd = path.join(dir, '-i\n-f null -.mp4');
    fs.copyFileSync(clip, odd);
    const info = await probeVideo(odd);
    assert.deepEqual([info.width, info.height, info.codec], [64, 48, 'h264']);
    const frame = (await activityEnv().run(extractFrame, { itemId: 'odd-name', videoPath: odd, outputDir })) as {
      framePath: string;
    };
    const meta = await sharp(frame.framePath).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 64, 48]);
  });

  it('refuses a picture too large to decode as InvalidInput (probe and frame extraction)', async () => {
    // A valid AVI of 16x16 raw frames whose headers claim 20000x10000 (ffmpeg's own limit is ~268 megapixels).
    const raw = path.join(root, 'raw.avi');
    const args = ['-hide_banner', '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'color=c=red:size=16x16:rate=5'];
    args.push('-t', '1', '-c:v', 'rawvideo', '-pix_fmt', 'rgb24', '-f', 'avi', '-y', ffmpegFileArg(raw));
    assert.equal((await runMediaTool(ffmpegPath(), args, { timeoutMs: 60_000 })).exitCode, 0);
    const bytes = fs.readFileSync(raw);
    const avih = bytes.indexOf('avih') + 8;
    bytes.writeUInt32LE(20000, avih + 32);
    bytes.writeUInt32LE(10000, avih + 36);
    const strf = bytes.indexOf('strf') + 8;
    bytes.writeInt32LE(20000, strf + 4);
    bytes.writeInt32LE(10000, strf + 8);
    const huge = path.join(uploads, 'huge.avi');
    fs.writeFileSync(huge, bytes);

    const probed = await invalidInputOf(probeVideo(huge), 'huge.avi');
    assert.match(probed.message, /the picture is 20000x10000 pixels, larger than the largest accepted/);
    const extracted = await invalidInputOf(
      activityEnv().run(extractFrame, { itemId: 'huge', videoPath: huge, outputDir }),
      'huge.avi',
    );
    assert.match(extracted.message, /larger than the largest accepted/);
  });

  it('turns a crash of ffprobe into InvalidInput instead of a retry', async () => {
    const crashing = path.join(root, 'crashing-ffprobe.sh');
    fs.writeFileSync(crashing, '#!/bin/sh\nkill -SEGV $$\n', { mode: 0o755 });
    const failure = await withTools({ ffprobe: crashing }, () => invalidInputOf(probeVideo(clip), 'crash'));
    assert.match(failure.message, /ffprobe crashed \(SIGSEGV\)/);
  });

  it('stops a media tool that runs past its time limit with a MediaToolLimitError', async () => {
    await assert.rejects(
      runMediaTool('sleep', ['30'], { timeoutMs: 200 }),
      (err) => err instanceof MediaToolLimitError && err.limit === 'time',
    );
  });

  it('reads ffprobe JSON of any shape (NaN, strings, huge numbers) as a sane probe or InvalidInput', () => {
    const abs = '/uploads/x.mp4';
    const accepted = (json: unknown) => {
      try {
        return videoProbeOf(json, abs);
      } catch (err) {
        assert.ok(err instanceof ApplicationFailure && err.type === INVALID_INPUT && err.nonRetryable, String(err));
        assert.ok(err.message.includes(abs));
        return undefined;
      }
    };
    const sane = (json: unknown) => {
      const probe = accepted(json);
      if (!probe) return;
      for (const n of [probe.width, probe.height, probe.codedWidth, probe.codedHeight, probe.streamIndex + 1]) {
        assert.ok(Number.isInteger(n) && n >= 1, `integer size/index: ${JSON.stringify(probe)}`);
      }
      assert.ok(probe.width <= MAX_SIDE && probe.height <= MAX_SIDE && probe.width * probe.height <= MAX_PIXELS);
      assert.ok(probe.durationSeconds > 0 && probe.durationSeconds <= MAX_DURATION_SECONDS);
      for (const n of [probe.frameRate, probe.sampleAspectRatio]) assert.ok(Number.isFinite(n) && n > 0);
      assert.ok([0, 90, 180, 270].includes(probe.rotation));
      assert.equal(typeof probe.codec, 'string');
    };
    const video = { index: 0, codec_type: 'video', codec_name: 'h264', width: 640, height: 360, duration: '2.0' };
    const bad: unknown[] = [
      null,
      'text',
      [],
      { streams: 'x' },
      { streams: [null, 1, { ...video, width: 'NaN' }] },
      { streams: [{ ...video, width: 1.5 }] },
      { streams: [{ ...video, duration: 'nan' }] },
      { streams: [{ ...video, duration: 'inf' }] },
      { streams: [{ ...video, duration: '1e400' }] },
      { streams: [{ ...video, duration: '0' }] },
      { streams: [{ ...video, duration: 'N/A' }], format: { duration: 'N/A' } },
      { streams: [{ ...video, duration: String(MAX_DURATION_SECONDS * 2) }] },
      { streams: [{ ...video, width: 16384, height: 16384 }] },
      { streams: [{ ...video, sample_aspect_ratio: '1000000:1' }] },
      { streams: [{ ...video, codec_type: 'video', disposition: { attached_pic: 1 } }] },
    ];
    for (const json of bad) {
      assert.equal(accepted(json), undefined, `refused: ${JSON.stringify(json)}`);
    }
    // Odd but harmless fields give a sane probe.
    sane({ streams: [{ ...video, avg_frame_rate: '0/0', r_frame_rate: 12, sample_aspect_ratio: 'NaN', tags: 5 }] });
    assert.equal(videoProbeOf({ streams: [{ ...video, width: '640', height: '360' }] }, abs).width, 640);
    assert.equal(videoProbeOf({ streams: [video] }, abs).frameRate, 25);

    const number = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.constantFrom('NaN', 'nan', 'inf', '-inf', 'N/A', '1e400', '0', '-1', '0/0', '1:0', '30000/1001', '64', ''),
      fc.string(),
    );
    const stream = fc.record(
      {
        index: number,
        codec_type: fc.constantFrom('video', 'audio', 'data', 7, null),
        codec_name: fc.oneof(fc.string(), fc.integer()),
        width: fc.oneof(number, fc.integer({ min: 1, max: 20_000 })),
        height: fc.oneof(number, fc.integer({ min: 1, max: 20_000 })),
        duration: number,
        sample_aspect_ratio: number,
        avg_frame_rate: number,
        r_frame_rate: number,
        disposition: fc.oneof(fc.record({ attached_pic: number }), fc.anything()),
        tags: fc.oneof(fc.record({ rotate: number }), fc.anything()),
        side_data_list: fc.oneof(fc.array(fc.record({ rotation: number })), fc.anything()),
      },
      { requiredKeys: [] },
    );
    const output = fc.oneof(
      fc.record(
        {
          streams: fc.oneof(fc.array(stream, { maxLength: 4 }), fc.anything()),
          format: fc.oneof(
            fc.record({ format_name: fc.string(), duration: number }, { requiredKeys: [] }),
            fc.anything(),
          ),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );
    fc.assert(fc.property(output, sane), { numRuns: 2000, seed });
  });
});
