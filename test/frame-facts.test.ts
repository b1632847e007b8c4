/**
 * Frame extraction without a separate ffprobe launch (issue 12, "Video"): a plain MP4/MOV's facts are read from its
 * `moov` box in-process (src/activities/media/mp4-header.ts) and must be exactly what ffprobe says; anything else
 * still goes to ffprobe; a header that lies cannot make ffmpeg decode more than it claims; and `moov` boxes and files
 * of any shape end as facts, "ask ffprobe", or InvalidInput, never an exception or a retry. Real ffmpeg/ffprobe. The
 * fuzzing seed is printed: FUZZ_SEED=<seed> replays a failure.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import fc from 'fast-check';
import sharp from 'sharp';
import { INVALID_INPUT } from '../src/activities/errors';
import { invalidInputOf } from './support/media';
import { extractFrame, readExtractionLog, undecodable } from '../src/activities/media/extract-frame';
import { ffmpegFileArg, ffmpegPath, ffprobePath, runMediaTool } from '../src/activities/media/ffmpeg';
import { asProbeJson, readMp4Video, videoOfMoov, type Mp4Video } from '../src/activities/media/mp4-header';
import { probeVideoDetailed, videoFacts } from '../src/activities/media/probe';
import { MAX_DURATION_SECONDS, MAX_PIXELS, MAX_SIDE, videoProbeOf } from '../src/activities/media/probe-output';
import type { ExtractedFrame } from '../src/activities/thumbnailer/types';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

function activityEnv(): MockActivityEnvironment {
  return new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
}

async function extract(
  videoPath: string,
  outputDir: string,
  itemId = path.basename(videoPath),
): Promise<ExtractedFrame> {
  return (await activityEnv().run(extractFrame, { itemId, videoPath, outputDir })) as ExtractedFrame;
}

async function ffmpeg(args: string[]): Promise<void> {
  const result = await runMediaTool(ffmpegPath(), ['-hide_banner', '-nostdin', '-v', 'error', ...args], {
    timeoutMs: 120_000,
  });
  assert.equal(result.exitCode, 0, `ffmpeg ${args.join(' ')}: ${result.stderr}`);
}

/** Payload start and end of the first box of each type along `route` (e.g. moov, trak, tkhd) in an MP4 file. */
function findBox(file: Buffer, route: string[]): { start: number; end: number } {
  let [start, end] = [0, file.length];
  for (const type of route) {
    let at = start;
    let found: { start: number; end: number } | undefined;
    while (at + 8 <= end && !found) {
      const size = file.readUInt32BE(at);
      if (file.toString('latin1', at + 4, at + 8) === type) found = { start: at + 8, end: at + size };
      at += size;
    }
    assert.ok(found, `box ${route.join('/')} in the test video`);
    [start, end] = [found.start, found.end];
    if (type === 'stsd') start += 8; // version, flags and entry count before the sample entries
  }
  return { start, end };
}

/** A copy of `source` whose video track's matrix is a quarter turn (what phones write for portrait video). */
function rotated(source: string, target: string, degrees: 90 | 270): void {
  const file = fs.readFileSync(source);
  const tkhd = findBox(file, ['moov', 'trak', 'tkhd']);
  assert.equal(file[tkhd.start], 0, 'tkhd version 0');
  const s = degrees === 90 ? 1 : -1;
  const m = [0, s * 0x10000, 0, -s * 0x10000, 0, 0, 0, 0, 0x40000000];
  m.forEach((v, i) => file.writeInt32BE(v, tkhd.start + 40 + 4 * i));
  fs.writeFileSync(target, file);
}

/** A copy of `source` whose headers (track and sample description) claim a picture of `width`x`height`. */
function claimingSize(source: string, target: string, width: number, height: number): void {
  const file = fs.readFileSync(source);
  const tkhd = findBox(file, ['moov', 'trak', 'tkhd']);
  file.writeUInt32BE(width * 0x10000, tkhd.start + 76);
  file.writeUInt32BE(height * 0x10000, tkhd.start + 80);
  const entry = findBox(file, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd']);
  file.writeUInt16BE(width, entry.start + 8 + 24);
  file.writeUInt16BE(height, entry.start + 8 + 26);
  fs.writeFileSync(target, file);
}

describe(`frame extraction facts from the MP4 header (real ffmpeg/ffprobe; fast-check seed ${seed})`, function () {
  this.timeout(120_000);

  let root: string;
  let outputDir: string;
  const videos: Record<string, string> = {};
  const lavfi = (size: string, rate = '25') => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}`];
  const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'frame-facts-'));
    outputDir = path.join(root, 'out');
    const v = (name: string) => (videos[name] = path.join(root, name));
    await ffmpeg([...lavfi('320x240'), '-t', '3', ...h264, '-y', ffmpegFileArg(v('plain.mp4'))]);
    await ffmpeg([
      ...lavfi('320x240', '30000/1001'),
      '-t',
      '3',
      ...h264,
      '-movflags',
      '+faststart',
      '-y',
      v('ntsc.mp4'),
    ]);
    await ffmpeg([
      ...lavfi('320x240'),
      ...['-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '3', '-map', '1:a', '-map', '0:v', ...h264],
      ...['-c:a', 'aac', '-y', v('audio-first.mp4')],
    ]);
    await ffmpeg([...lavfi('320x240'), '-t', '3', '-vf', 'setsar=4/3', ...h264, '-y', v('anamorphic.mp4')]);
    await ffmpeg([...lavfi('322x242', '24'), '-t', '3', ...h264, '-y', v('movie.mov')]);
    await ffmpeg([...lavfi('320x240'), '-t', '2', '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-y', v('vp9.mp4')]);
    rotated(videos['plain.mp4'], v('portrait-90.mp4'), 90);
    rotated(videos['anamorphic.mp4'], v('anamorphic-270.mp4'), 270);
    // Not read from the header: fragmented MP4, MPEG-4 Part 2 (its name depends on more than the sample entry), MKV.
    await ffmpeg([...lavfi('320x240'), '-t', '3', ...h264, '-movflags', '+frag_keyframe+empty_moov', v('frag.mp4')]);
    await ffmpeg([...lavfi('320x240'), '-t', '3', '-c:v', 'mpeg4', '-y', v('part2.mp4')]);
    await ffmpeg([...lavfi('320x240'), '-t', '3', ...h264, '-y', v('matroska.mkv')]);
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads exactly the facts ffprobe reports from plain MP4/MOV headers, and leaves other files to ffprobe', async () => {
    const fromHeader = ['plain.mp4', 'ntsc.mp4', 'audio-first.mp4', 'anamorphic.mp4', 'movie.mov', 'vp9.mp4'];
    for (const name of [...fromHeader, 'portrait-90.mp4', 'anamorphic-270.mp4']) {
      const facts = await videoFacts(videos[name]);
      assert.equal(facts.source, 'mp4 header', name);
      const probed = await probeVideoDetailed(videos[name]);
      // ffprobe builds differ on the file's duration when an AAC track has priming samples: the movie header's
      // (3.022 s, ffmpeg 5.1) or the edit lists' (3.000 s, later builds). The header reader gives the movie header's;
      // the seek point it feeds moves by under 1 %. Everything else must be exactly ffprobe's.
      assert.ok(Math.abs(facts.probe.durationSeconds - probed.durationSeconds) <= 0.05, `${name}: duration`);
      assert.deepEqual(
        { ...facts.probe, durationSeconds: probed.durationSeconds },
        probed,
        `${name}: the same facts as ffprobe`,
      );
    }
    const portrait = (await videoFacts(videos['portrait-90.mp4'])).probe;
    assert.deepEqual([portrait.width, portrait.height, portrait.rotation % 180], [240, 320, 90]);
    for (const name of ['frag.mp4', 'part2.mp4', 'matroska.mkv']) {
      assert.equal((await videoFacts(videos[name])).source, 'ffprobe', name);
    }
  });

  it('takes the frame of a plain MP4 without launching ffprobe, and still uses ffprobe for other files', async () => {
    const launches = path.join(root, 'ffprobe-launches.txt');
    const spy = path.join(root, 'ffprobe-spy.sh');
    fs.writeFileSync(spy, `#!/bin/sh\necho launched >> '${launches}'\nexec '${ffprobePath()}' "$@"\n`, { mode: 0o755 });
    const saved = process.env.FFPROBE_PATH;
    process.env.FFPROBE_PATH = spy;
    try {
      const frame = await extract(videos['plain.mp4'], outputDir, 'no-probe');
      assert.deepEqual([frame.width, frame.height, frame.video.codec], [320, 240, 'h264']);
      assert.equal(fs.existsSync(launches), false, 'no ffprobe launch for a plain MP4');
      await extract(videos['matroska.mkv'], outputDir, 'mkv');
      assert.equal(fs.readFileSync(launches, 'utf8'), 'launched\n', 'one ffprobe launch for the MKV');
    } finally {
      if (saved === undefined) delete process.env.FFPROBE_PATH;
      else process.env.FFPROBE_PATH = saved;
    }
  });

  it('writes rotated and anamorphic videos at their display size, as the probe reports it', async () => {
    for (const name of ['portrait-90.mp4', 'anamorphic.mp4', 'anamorphic-270.mp4', 'movie.mov', 'part2.mp4']) {
      const probe = await probeVideoDetailed(videos[name]);
      const frame = await extract(videos[name], outputDir);
      const meta = await sharp(frame.framePath).metadata();
      assert.deepEqual([meta.width, meta.height], [probe.width, probe.height], name);
      assert.deepEqual(frame.video, {
        durationSeconds: probe.durationSeconds,
        width: probe.width,
        height: probe.height,
        codec: probe.codec,
      });
    }
  });

  it('refuses a header that lies about the picture size: too large before any decoding, too small at decoding', async () => {
    const huge = path.join(root, 'claims-huge.mp4');
    claimingSize(videos['plain.mp4'], huge, 20000, 10000);
    const refused = await invalidInputOf(extract(huge, outputDir), 'claims 20000x10000');
    assert.match(refused.message, /the picture is 20000x10000 pixels, larger than the largest accepted/);

    // 1280x720 pictures under a header saying 64x48: the decoder may not produce more than the header allows.
    const big = path.join(root, 'big.mp4');
    await ffmpeg([...lavfi('1280x720'), '-t', '2', ...h264, '-y', big]);
    const small = path.join(root, 'claims-small.mp4');
    claimingSize(big, small, 64, 48);
    const failure = await invalidInputOf(extract(small, outputDir), 'claims 64x48');
    assert.match(failure.message, /its pictures are 1280x720 pixels, more than the 64x48 its header declares/);
    assert.equal(fs.existsSync(path.join(outputDir, 'claims-small.mp4', 'frame.png')), false);
  });

  /** The facts of a header of any shape: none (ask ffprobe), a sane probe, or InvalidInput naming the file. */
  function assertSaneFacts(video: Mp4Video | undefined): void {
    if (!video) return;
    for (const n of [video.codedWidth, video.codedHeight]) assert.ok(Number.isInteger(n) && n >= 1 && n <= 65535);
    assert.ok(Number.isFinite(video.durationSeconds) && video.durationSeconds >= 0);
    let probe;
    try {
      probe = videoProbeOf(asProbeJson(video), '/uploads/x.mp4');
    } catch (err) {
      assert.ok(err instanceof ApplicationFailure && err.type === INVALID_INPUT && err.nonRetryable, String(err));
      assert.ok(err.message.includes('/uploads/x.mp4'));
      return;
    }
    assert.ok(probe.width <= MAX_SIDE && probe.height <= MAX_SIDE && probe.width * probe.height <= MAX_PIXELS);
    assert.ok(probe.durationSeconds > 0 && probe.durationSeconds <= MAX_DURATION_SECONDS);
    for (const n of [probe.frameRate, probe.sampleAspectRatio]) assert.ok(Number.isFinite(n) && n > 0);
    assert.ok([0, 90, 180, 270].includes(probe.rotation));
  }

  it('reads moov boxes of any shape (mutated fields, sizes, truncation, random bytes) as facts, none, or InvalidInput', () => {
    const file = fs.readFileSync(videos['audio-first.mp4']);
    const { start, end } = findBox(file, ['moov']);
    const moov = file.subarray(start, end);
    assert.ok(videoOfMoov(moov), 'the unmutated header is read');
    const interesting = fc.constantFrom(0, 1, 7, 8, 16, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0x40000000);
    const mutation = fc.record({
      at: fc.nat({ max: moov.length - 1 }),
      value: fc.oneof(interesting, fc.integer({ min: 0, max: 0xffffffff })),
      width: fc.constantFrom(1, 2, 4),
    });
    const mutated = fc.record({ mutations: fc.array(mutation, { maxLength: 8 }), cut: fc.nat({ max: moov.length }) });
    fc.assert(
      fc.property(mutated, ({ mutations, cut }) => {
        const copy = Buffer.from(moov);
        for (const { at, value, width } of mutations) {
          if (at + width > copy.length) continue;
          if (width === 1) copy.writeUInt8(value & 0xff, at);
          else if (width === 2) copy.writeUInt16BE(value & 0xffff, at);
          else copy.writeUInt32BE(value >>> 0, at);
        }
        assertSaneFacts(videoOfMoov(mutations.length % 2 ? copy.subarray(0, cut) : copy));
      }),
      { numRuns: 3000, seed },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => assertSaneFacts(videoOfMoov(Buffer.from(bytes)))),
      { numRuns: 1000, seed },
    );
  });

  it('walks the top-level boxes of files of any shape without throwing, and only vouches for a plain MP4', async () => {
    const file = fs.readFileSync(videos['plain.mp4']);
    const fuzzDir = path.join(root, 'fuzz');
    fs.mkdirSync(fuzzDir, { recursive: true });
    let n = 0;
    // Top-level box headers: the first 8 bytes of each of the first boxes, overwritten.
    const header = fc.record({
      box: fc.nat({ max: 3 }),
      size: fc.oneof(fc.constantFrom(0, 1, 7, 8, 16, 0xffffffff), fc.nat()),
      type: fc.constantFrom('ftyp', 'moov', 'moof', 'mdat', 'free', 'xxxx'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(header, { maxLength: 3 }), fc.nat({ max: file.length }), async (headers, cut) => {
        const copy = Buffer.from(file.subarray(0, Math.max(cut, 8)));
        let at = 0;
        const offsets: number[] = [];
        for (let i = 0; i < 4 && at + 8 <= copy.length; i++) {
          offsets.push(at);
          at += Math.max(8, copy.readUInt32BE(at));
        }
        for (const { box, size, type } of headers) {
          const offset = offsets[box];
          if (offset === undefined) continue;
          copy.writeUInt32BE(size >>> 0, offset);
          copy.write(type, offset + 4, 'latin1');
        }
        const target = path.join(fuzzDir, `case-${n++}.mp4`);
        fs.writeFileSync(target, copy);
        assertSaneFacts(await readMp4Video(target, copy.length));
        fs.rmSync(target);
      }),
      { numRuns: 500, seed },
    );
  });

  it('ends corrupted MP4s as a frame or a non-retryable InvalidInput, never a retry or a crash', async () => {
    const file = fs.readFileSync(videos['audio-first.mp4']);
    const { start, end } = findBox(file, ['moov']);
    const random = fc.sample(
      fc.array(fc.record({ at: fc.integer({ min: start, max: end - 4 }), value: fc.nat() }), {
        minLength: 1,
        maxLength: 6,
      }),
      { numRuns: 24, seed },
    );
    // Also: the media data zeroed or cut (the header intact), the classic truncated upload.
    const cases: Buffer[] = random.map((mutations) => {
      const copy = Buffer.from(file);
      for (const { at, value } of mutations) copy.writeUInt32BE(value >>> 0, at);
      return copy;
    });
    const mdat = findBox(file, ['mdat']);
    cases.push(
      Buffer.concat([file.subarray(0, mdat.start), Buffer.alloc(mdat.end - mdat.start), file.subarray(mdat.end)]),
    );
    cases.push(file.subarray(0, mdat.start + 64));
    let frames = 0;
    for (const [i, bytes] of cases.entries()) {
      const target = path.join(root, `corrupt-${i}.mp4`);
      fs.writeFileSync(target, bytes);
      try {
        await extract(target, outputDir);
        frames++;
      } catch (err) {
        assert.ok(err instanceof ApplicationFailure, `case ${i}: ${String(err)}`);
        assert.equal(err.type, INVALID_INPUT, `case ${i}: ${err.message}`);
        assert.ok(err.nonRetryable && err.message.includes(target), `case ${i}: ${err.message}`);
      }
    }
    assert.ok(frames < cases.length, 'some of the corrupt files were refused');
  });

  it("tells a video ffmpeg cannot take from a passing fault of the machine, by ffmpeg's stderr", () => {
    const videoFaults = [
      'Failed to inject frame into filter network: Numerical result out of range',
      '[h264 @ 0x1] error while decoding MB 4 1',
      'Decoder (codec none) not found for input stream #0:1',
      'moov atom not found',
      'Some message no one listed yet',
    ];
    for (const stderr of videoFaults) assert.equal(undecodable(stderr), true, stderr);
    const machineFaults = [
      'av_interleaved_write_frame(): No space left on device',
      'Cannot allocate memory',
      '/out/frame.png: Permission denied',
      '/out/frame.png: No such file or directory',
      'Error reading input: Input/output error',
      '',
    ];
    for (const stderr of machineFaults) assert.equal(undecodable(stderr), false, stderr);
  });

  it("reads ffmpeg's log, and metadata crafted to look like its lines changes nothing", () => {
    const log = [
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/uploads/x.mp4':",
      '  Metadata:',
      '    title           : %TITLE%',
      '  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 320x240, 25 fps',
      '[Parsed_showinfo_3 @ 0x55d0c0ffee00] config in time_base: 1/12800, frame_rate: 25/1',
      '[Parsed_showinfo_3 @ 0x55d0c0ffee00] n:   0 pts: -12800 pts_time:-1       duration:    512 fmt:yuv420p',
      '%TAIL%',
    ].join('\n');
    const plain = readExtractionLog(log.replace('%TITLE%', 'holiday').replace('%TAIL%', ''));
    assert.deepEqual(plain, { chosenPtsSeconds: -1, oversizedPicture: undefined, endedWithoutPicture: false });
    const ended = readExtractionLog('Stream mapping:\nCannot determine format of input stream 0:1 after EOF\n');
    assert.equal(ended.endedWithoutPicture, true);
    const oversized = '[h264 @ 0x1] [IMGUTILS @ 0x7f] Picture size 1280x720 exceeds specified max pixel count 97280';
    assert.equal(readExtractionLog(oversized).oversizedPicture, '1280x720');

    // ffmpeg prints a multi-line metadata value with each line indented: forged lines never start a line.
    const forged = fc.constantFrom(
      '[Parsed_showinfo_3 @ 0x1] n: 9 pts: 1 pts_time:99999',
      '[h264 @ 0x1] Picture size 1x1 exceeds specified max pixel count 1',
      'Cannot determine format of input stream 0:0 after EOF',
    );
    const title = fc.array(fc.oneof(forged, fc.string()), { maxLength: 4 }).map((parts) => parts.join(' '));
    const indented = (text: string) => text.replace(/\n/g, '\n                    : ');
    fc.assert(
      fc.property(title, fc.string(), (value, tail) => {
        const withTitle = readExtractionLog(log.replace('%TITLE%', indented(value)).replace('%TAIL%', ''));
        assert.deepEqual(withTitle, plain);
        // Whatever follows, the time read is a finite number or none.
        const any = readExtractionLog(log.replace('%TITLE%', value).replace('%TAIL%', tail));
        assert.ok(any.chosenPtsSeconds === undefined || Number.isFinite(any.chosenPtsSeconds));
      }),
      { numRuns: 2000, seed },
    );
  });
});
