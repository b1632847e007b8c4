import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import sharp from 'sharp';
import { crashSignals, ffmpegFileArg, ffmpegPath, MediaToolLimitError, runMediaTool, stderrSummary } from './ffmpeg';
import { invalidInput } from '../errors';
import { fileExists, writeAtomically } from '../../infra/atomic-write';
import { probeVideoDetailed, videoFacts, type VideoFacts, type VideoProbe } from './probe';
import { MAX_PIXELS } from './probe-output';
import { refusedInputReason, safeInputOptions } from './safe-input';
import type { ExtractedFrame, ExtractFrameInput, VideoInfo } from '../thumbnailer/types';

/** Folder of one item's outputs: `<outputDir>/<itemId>`. Rejects item ids that are not a single safe folder name. */
export function itemOutputDir(outputDir: string, itemId: string): string {
  if (typeof outputDir !== 'string' || outputDir.trim() === '') {
    throw invalidInput("No output folder was given (outputDir is empty); pass the run's output folder.", { outputDir });
  }
  if (
    typeof itemId !== 'string' ||
    itemId.length === 0 ||
    itemId.length > 200 ||
    itemId === '.' ||
    itemId === '..' ||
    /[/\\\0]/.test(itemId)
  ) {
    throw invalidInput(
      `Item id ${JSON.stringify(itemId)} cannot be used as a folder name: it must be 1-200 characters, not "." or "..", ` +
        'without slashes or NUL. Use an id made of letters, digits, "-", "_" and ".".',
      { itemId },
    );
  }
  return path.join(path.resolve(outputDir), itemId);
}

/** Heartbeat period: a third of the heartbeat timeout when one is set (the SDK throttles anyway), else 5 s. */
export function heartbeatEveryMs(ctx: Context): number {
  const timeout = ctx.info.heartbeatTimeoutMs;
  return timeout ? Math.min(5000, Math.max(100, Math.floor(timeout / 3))) : 5000;
}

/** Most frames the `thumbnail` filter may buffer: it keeps the whole window in memory as RGB. */
const windowMemoryBytes = 256 * 1024 * 1024;
const maxWindowFrames = 50;
/** The window covers about this much video. */
const windowSeconds = 2;

interface FramePlan {
  seekSeconds: number;
  windowFrames: number;
}

/**
 * Where to look: about a third into the video (past intros, fades from black and the often-black frame 0), clamped
 * so at least one frame remains after the seek point. `windowFrames` sizes a `thumbnail` filter over the ~2 s after
 * it (the transcoder's poster frame); extractFrame samples the window before it instead ({@link frameWindow}).
 */
export function planFrame(probe: Pick<VideoProbe, 'durationSeconds' | 'frameRate' | 'width' | 'height'>): FramePlan {
  const frameSeconds = 1 / probe.frameRate;
  const latest = Math.max(0, probe.durationSeconds - frameSeconds);
  const seekSeconds = Math.min(probe.durationSeconds / 3, latest);
  const byMemory = Math.floor(windowMemoryBytes / (probe.width * probe.height * 3));
  const windowFrames = Math.max(1, Math.min(maxWindowFrames, Math.round(windowSeconds * probe.frameRate), byMemory));
  return { seekSeconds: Math.round(seekSeconds * 1000) / 1000, windowFrames };
}

interface SidecarV1 {
  version: 1;
  videoPath: string;
  videoBytes: number;
  videoMtimeMs: number;
  atSeconds: number;
  width: number;
  height: number;
}

async function videoIdentity(videoPath: string): Promise<Pick<SidecarV1, 'videoPath' | 'videoBytes' | 'videoMtimeMs'>> {
  const st = await fs.stat(videoPath);
  return { videoPath, videoBytes: st.size, videoMtimeMs: Math.floor(st.mtimeMs) };
}

/** Size of a fully decodable image, or undefined when the file is missing or not a valid image. */
async function decodableImageSize(file: string): Promise<{ width: number; height: number } | undefined> {
  try {
    // Read through a Buffer, not a path: libvips caches file inputs by name and could return a replaced file's pixels.
    const { info } = await sharp(await fs.readFile(file))
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height };
  } catch {
    return undefined;
  }
}

/**
 * Size in the header of the PNG ffmpeg just wrote (exit code 0), or undefined when it is not a PNG. Header only: a
 * full decode of a 1080p frame costs more than a tenth of the extraction; frames of earlier attempts, which may
 * have been damaged since, still get the full decode of {@link decodableImageSize}.
 */
async function writtenPngSize(file: string): Promise<{ width: number; height: number } | undefined> {
  try {
    const meta = await sharp(await fs.readFile(file)).metadata();
    return meta.format === 'png' && meta.width && meta.height ? { width: meta.width, height: meta.height } : undefined;
  } catch {
    return undefined;
  }
}

/** The frame of an earlier attempt when it is complete and was taken from the same, unchanged video. */
async function reusableFrame(
  framePath: string,
  sidecarPath: string,
  videoPath: string,
): Promise<SidecarV1 | undefined> {
  if (!(await fileExists(framePath)) || !(await fileExists(sidecarPath))) return undefined;
  let sidecar: SidecarV1;
  try {
    sidecar = JSON.parse(await fs.readFile(sidecarPath, 'utf8')) as SidecarV1;
  } catch {
    return undefined;
  }
  const current = await videoIdentity(videoPath);
  if (
    sidecar.version !== 1 ||
    sidecar.videoPath !== current.videoPath ||
    sidecar.videoBytes !== current.videoBytes ||
    sidecar.videoMtimeMs !== current.videoMtimeMs
  ) {
    return undefined;
  }
  const size = await decodableImageSize(framePath);
  if (!size || size.width !== sidecar.width || size.height !== sidecar.height) return undefined;
  return sidecar;
}

/**
 * Longest one ffmpeg run may take: it decodes about two seconds of video, so minutes mean a file crafted to decode
 * slowly. Below the thumbnailer's and the pipeline engine's activity timeouts (10 and 5 minutes), so the item ends
 * with this reason rather than an activity timeout and retries.
 */
export const extractionTimeoutMs = 4 * 60_000;

/**
 * ffmpeg stderr phrases (any case) that point at the machine rather than the video: disk, memory, descriptors,
 * permissions, a vanished path. Only these make a failed ffmpeg run worth retrying.
 */
const passingFaultHints = [
  'no space left on device',
  'disk quota exceeded',
  'cannot allocate memory',
  'out of memory',
  'input/output error',
  'resource temporarily unavailable',
  'too many open files',
  'permission denied',
  'read-only file system',
  'no such file or directory',
  'broken pipe',
];

/**
 * Whether a failed ffmpeg run (an exit code, not a signal) failed on the input itself. ffmpeg decodes the same bytes
 * the same way every time, so a failure that names no passing fault of the machine (disk, memory, descriptors, see
 * {@link passingFaultHints}) is the video's: corrupt data, a codec ffmpeg lacks, numbers its filters cannot take
 * ("Failed to inject frame into filter network: Numerical result out of range"). Listing machine faults rather than
 * the input's endless ways to be broken is what keeps a crafted file from being retried five times.
 */
export function undecodable(stderr: string | null | undefined): boolean {
  const text = (stderr ?? '').toLowerCase();
  // Nothing said at all is no evidence against the video.
  if (!text.trim()) return false;
  return !passingFaultHints.some((hint) => text.includes(hint));
}

/** Most candidate frames the `thumbnail` filter compares (each is converted to RGB and kept in memory). */
const maxCandidates = 8;

/**
 * The frames compared, in seconds relative to the seek point `seek`: `[from, to)`, sampled every `step` s, at most
 * `candidates` of them. From the seek point on, the window lies *before* it: ffmpeg seeks to the keyframe before
 * `seek` and decodes from there anyway (the direct `ffmpeg -ss T -i in -frames:v 1` decodes the same frames and
 * throws them away), so comparing them costs no extra decoding. It ends one frame after `seek` (the direct
 * command's frame is the last candidate) and never reaches back past half of `seek`, so frame 0 stays out of it.
 * At seek 0 (the fallback) it looks ahead instead: nothing lies before the start.
 */
export function frameWindow(
  seek: number,
  probe: Pick<VideoProbe, 'frameRate' | 'width' | 'height'>,
): { from: number; to: number; step: number; candidates: number } {
  const frameSeconds = 1 / probe.frameRate;
  const byMemory = Math.floor(windowMemoryBytes / (probe.width * probe.height * 3));
  const candidates = Math.max(1, Math.min(maxCandidates, byMemory));
  const from = seek > 0 ? -Math.min(windowSeconds, seek / 2) : 0;
  const to = seek > 0 ? frameSeconds : windowSeconds;
  const step = Math.max(frameSeconds / 2, (to - from) / candidates);
  return { from, to, step, candidates };
}

/** Seconds for a filter argument: fixed decimals, never exponent notation. */
const seconds = (s: number) => s.toFixed(6);

/**
 * Largest picture the decoder may produce (ffmpeg's `-max_pixels`): the probed size with a margin for the padded
 * buffers decoders check it on (MPEG-4 Part 2 needs ~1.6x the picture at 320x240), so a stream that decodes larger
 * than its header said fails instead of filling the `thumbnail` window with pictures of a size nobody checked.
 */
export function decodeMaxPixels(probe: Pick<VideoProbe, 'codedWidth' | 'codedHeight'>): number {
  return Math.min(MAX_PIXELS, (probe.codedWidth + 256) * (probe.codedHeight + 256));
}

/**
 * Input options for the one ffmpeg run. Facts from the MP4 header hold only for the mov demuxer and its first
 * video track, so that run names both (`-f mov`, stream `V:0`: the first video that is not cover art, as the probe
 * picks) instead of letting ffmpeg guess the format from the content.
 */
function inputSelection(facts: VideoFacts): { before: string[]; map: string } {
  const limit = ['-max_pixels', String(decodeMaxPixels(facts.probe))];
  return facts.source === 'mp4 header'
    ? { before: [...limit, '-f', 'mov'], map: '0:V:0' }
    : { before: limit, map: `0:${facts.probe.streamIndex}` };
}

/**
 * Square pixels at display size: stretches the dimension that was the stored width by the pixel aspect (after
 * ffmpeg's automatic rotation that is the height for a quarter turn), from the frame's own aspect, so it is right
 * whether the container or the codec carries it. A no-op (no conversion) for square pixels.
 */
function squarePixelFilters(rotation: number): string[] {
  const stretched = (size: string) => `'max(1\\,round(${size}))'`;
  return rotation === 90 || rotation === 270
    ? [`scale=w=iw:h=${stretched('ih/sar')}`, 'setsar=1']
    : [`scale=w=${stretched('iw*sar')}:h=ih`, 'setsar=1'];
}

/** What frame extraction reads in ffmpeg's log (stderr at `-loglevel info`). */
export interface ExtractionLog {
  /** The chosen frame's time relative to the seek point (negative for one before it), from `showinfo`. */
  chosenPtsSeconds?: number;
  /** `WxH` of a picture the decoder refused because of `-max_pixels`. */
  oversizedPicture?: string;
  /** ffmpeg reached the end of the input before it decoded one picture of the stream. */
  endedWithoutPicture: boolean;
}

/**
 * Reads ffmpeg's log of an extraction. Only lines ffmpeg's components write count (they start with `[name @ 0x…]`,
 * or with ffmpeg's own sentence): the file's metadata is printed into the same log, indented, so a title crafted to
 * look like one of these lines does not match.
 */
export function readExtractionLog(stderr: string): ExtractionLog {
  // showinfo logs the selected frame; its pts is relative to the seek point because -ss comes before -i.
  const shown = [
    ...stderr.matchAll(/^\[Parsed_showinfo_\d+ @ (?:0x)?[0-9a-f]+\][^\n]*?\bpts_time:\s*(-?\d+(?:\.\d+)?)/gm),
  ];
  const pts = shown.length > 0 ? Number(shown[shown.length - 1][1]) : undefined;
  const oversized = /^\[[^\n]*?\] Picture size (\d{1,9}x\d{1,9}) exceeds specified max pixel count/m.exec(stderr);
  return {
    chosenPtsSeconds: pts !== undefined && Number.isFinite(pts) ? pts : undefined,
    oversizedPicture: oversized?.[1],
    endedWithoutPicture: /^Cannot determine format of input stream \d+:\d+ after EOF/m.test(stderr),
  };
}

/**
 * One ffmpeg run writing the chosen frame to `outPath` as PNG. Returns the frame's time in the video, or undefined
 * when ffmpeg produced no frame (nothing decodable in the window).
 */
async function runExtraction(
  facts: VideoFacts,
  videoPath: string,
  seekSeconds: number,
  outPath: string,
  ctx: Context,
  itemId: string,
): Promise<number | undefined> {
  const { probe } = facts;
  const input = inputSelection(facts);
  const window = frameWindow(seekSeconds, probe);
  // `trim` keeps the window and ends the stream after it (so ffmpeg stops decoding there), `select` samples it, and
  // `thumbnail` picks the candidate closest to their average colour histogram (no black or flash frame).
  const filters = [
    `trim=start=${seconds(window.from)}:end=${seconds(window.to)}`,
    `select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,${seconds(window.step)})'`,
    `thumbnail=${window.candidates}`,
  ];
  // showinfo logs the chosen frame's time; then its timestamp is reset to 0, because ffmpeg's output drops a frame
  // stamped more than ~0.6 s before the seek point (one of the window's) as "too early".
  filters.push('showinfo', 'setpts=PTS-STARTPTS', ...squarePixelFilters(probe.rotation));
  const args = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'info',
    '-ss',
    seekSeconds.toFixed(3),
    // Keep the frames between the keyframe and the seek point (decoded either way) for the window above.
    '-noaccurate_seek',
    ...safeInputOptions(),
    ...input.before,
    '-i',
    ffmpegFileArg(videoPath),
    '-map',
    input.map,
    '-an',
    '-sn',
    '-dn',
    '-vf',
    filters.join(','),
    '-frames:v',
    '1',
    '-c:v',
    'png',
    '-f',
    'image2',
    '-update',
    '1',
    '-y',
    ffmpegFileArg(outPath),
  ];
  const started = Date.now();
  let result;
  try {
    result = await runMediaTool(ffmpegPath(), args, {
      signal: ctx.cancellationSignal,
      tickMs: heartbeatEveryMs(ctx),
      onTick: () => ctx.heartbeat({ itemId, stage: 'ffmpeg', seekSeconds, elapsedMs: Date.now() - started }),
      timeoutMs: extractionTimeoutMs,
    });
  } catch (err) {
    if (!(err instanceof MediaToolLimitError)) throw err;
    const reason = `ffmpeg stopped: ${err.message}`;
    throw invalidInput(
      `Cannot take a frame of ${videoPath}: ${reason}; the file is probably crafted to decode slowly. Check the ` +
        'file or remove it from the batch.',
      { videoPath, reason },
    );
  }
  if (result.exitSignal && crashSignals.includes(result.exitSignal)) {
    const reason = `ffmpeg crashed (${result.exitSignal}) decoding it`;
    throw invalidInput(
      `Cannot take a frame of ${videoPath}: ${reason}; the file is corrupt or crafted. Check the file or remove it ` +
        'from the batch.',
      { videoPath, reason },
    );
  }
  if (result.exitSignal) {
    throw new Error(
      `ffmpeg was killed by ${result.exitSignal} while extracting a frame from ${videoPath}; will retry.`,
    );
  }
  const produced = (await fileExists(outPath)) && (await fs.stat(outPath)).size > 0;
  const log = readExtractionLog(result.stderr);
  if (log.oversizedPicture && !produced) {
    const reason =
      `its pictures are ${log.oversizedPicture} pixels, more than the ${probe.codedWidth}x${probe.codedHeight} its ` +
      'header declares';
    throw invalidInput(
      `Cannot take a frame of ${videoPath}: ${reason}; the file is broken or crafted. Check the file or remove it ` +
        'from the batch.',
      { videoPath, reason },
    );
  }
  if (result.exitCode !== 0) {
    const refused = refusedInputReason(result.stderr);
    if (refused) {
      throw invalidInput(
        `Cannot take a frame of ${videoPath}: ${refused}. Check the file or remove it from the batch.`,
        {
          videoPath,
          reason: refused,
        },
      );
    }
    // The stream ended before one picture was decoded: as when ffmpeg exits 0 without one (try from the start).
    if (!produced && log.endedWithoutPicture) return undefined;
    const reason = stderrSummary(result.stderr);
    if (!produced && undecodable(result.stderr)) {
      throw invalidInput(
        `Cannot decode a frame of ${videoPath}: ffmpeg says "${reason}". The video is corrupt or uses an unsupported ` +
          'codec. Check the file or remove it from the batch.',
        { videoPath, reason },
      );
    }
    throw new Error(`ffmpeg failed (exit code ${result.exitCode}) extracting a frame from ${videoPath}: ${reason}`);
  }
  if (!produced) return undefined;
  const at = seekSeconds + (log.chosenPtsSeconds ?? 0);
  return Math.round(Math.min(Math.max(at, 0), probe.durationSeconds) * 1000) / 1000;
}

/**
 * Activity: takes one representative frame of a video and writes it as PNG to `<outputDir>/<itemId>/frame.png`.
 *
 * Reads the video's facts first (bad input fails non-retryably): from the MP4 header in-process when it is a plain
 * MP4/MOV, else with ffprobe ({@link videoFacts}); then one ffmpeg run seeks to about a third of the video and lets
 * the `thumbnail` filter pick the most representative of a few frames sampled from the ~2 s before that point
 * (frames ffmpeg decodes anyway on its way from the keyframe; see {@link frameWindow}) — never blindly frame 0. If
 * nothing can be decoded there (e.g. a truncated file), it tries again from the start. When ffmpeg fails on facts
 * read from the header, ffprobe is asked too, so a file it refuses ends with its reason. Idempotent: the frame is
 * written atomically, and a retry reuses a complete frame from an earlier attempt on the same unchanged video
 * (recorded in `frame.json` next to it). Heartbeats while ffmpeg runs; cancelling the activity kills ffmpeg.
 */
export async function extractFrame(input: ExtractFrameInput): Promise<ExtractedFrame> {
  const ctx = Context.current();
  const { itemId } = input;
  const dir = itemOutputDir(input.outputDir, itemId);
  const probeOptions = { signal: ctx.cancellationSignal, onTick: () => ctx.heartbeat({ itemId, stage: 'probe' }) };
  const facts = await videoFacts(input.videoPath, probeOptions);
  ctx.cancellationSignal.throwIfAborted();
  const { probe } = facts;
  const videoPath = path.resolve(input.videoPath);
  const framePath = path.join(dir, 'frame.png');
  const sidecarPath = path.join(dir, 'frame.json');
  // The display size reported is the frame's: the picture as shown, which is what the probe's size describes.
  const videoOf = (size: { width: number; height: number }): VideoInfo => ({
    durationSeconds: probe.durationSeconds,
    width: size.width,
    height: size.height,
    codec: probe.codec,
  });

  const earlier = await reusableFrame(framePath, sidecarPath, videoPath);
  if (earlier) {
    ctx.log.info('Reusing the frame of an earlier attempt', { itemId, framePath });
    const { atSeconds, width, height } = earlier;
    return { itemId, framePath, atSeconds, width, height, video: videoOf(earlier) };
  }

  const identity = await videoIdentity(videoPath);
  const plan = planFrame(probe);
  let atSeconds = 0;
  try {
    await writeAtomically(framePath, async (tmpPath) => {
      let at = await runExtraction(facts, videoPath, plan.seekSeconds, tmpPath, ctx, itemId);
      if (at === undefined && plan.seekSeconds > 0) {
        ctx.log.warn('No frame could be decoded after the seek point; trying from the start', {
          itemId,
          videoPath,
          seekSeconds: plan.seekSeconds,
        });
        at = await runExtraction(facts, videoPath, 0, tmpPath, ctx, itemId);
      }
      if (at === undefined) {
        const describedBy = facts.source === 'ffprobe' ? 'ffprobe reports' : 'its MP4 header declares';
        throw invalidInput(
          `No frame of ${videoPath} could be decoded (${describedBy} ${probe.durationSeconds.toFixed(2)} s of ` +
            `${probe.codec}, but ffmpeg produced no picture). The file is probably truncated or corrupt. Check the ` +
            'file or remove it from the batch.',
          { videoPath, reason: 'no decodable frame' },
        );
      }
      atSeconds = at;
    });
  } catch (err) {
    // A retryable failure on facts from the header: if ffprobe refuses the file, that is the reason to report.
    if (facts.source === 'mp4 header' && !(err instanceof ApplicationFailure) && !ctx.cancellationSignal.aborted) {
      const probed = await probeVideoDetailed(input.videoPath, probeOptions).catch((e: unknown) => e);
      if (probed instanceof ApplicationFailure) throw probed;
    }
    throw err;
  }

  const size = await writtenPngSize(framePath);
  if (!size) throw new Error(`ffmpeg wrote ${framePath} but it is not a readable PNG; will retry.`);
  const sidecar: SidecarV1 = { version: 1, ...identity, atSeconds, width: size.width, height: size.height };
  await writeAtomically(sidecarPath, (tmp) => fs.writeFile(tmp, `${JSON.stringify(sidecar, null, 2)}\n`));
  return { itemId, framePath, atSeconds, width: size.width, height: size.height, video: videoOf(size) };
}
