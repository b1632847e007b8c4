import fs from 'node:fs/promises';
import path from 'node:path';
import {
  crashSignals,
  ffmpegFileArg,
  ffprobePath,
  MediaToolLimitError,
  runMediaTool,
  type ToolRunOptions,
} from './ffmpeg';
import { invalidInput } from '../errors';
import { asProbeJson, readMp4Video } from './mp4-header';
import { videoProbeOf, whatToDo, type VideoProbe } from './probe-output';
import { playlistKind, playlistReason, refusedInputReason, safeInputOptions } from './safe-input';
import type { VideoInfo } from '../thumbnailer/types';

export type { VideoProbe } from './probe-output';

const probeTimeoutMs = 120_000;

/** ffprobe's error text without the file name (we name the file ourselves) and the `[demuxer @ 0x...]` prefixes. */
function cleanProbeError(stderr: string, fileArg: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) =>
      l
        .replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '')
        .split(`${fileArg}: `)
        .join('')
        .trim(),
    )
    .filter((l) => l.length > 0);
  const unique = [...new Set(lines)].slice(-3).join('; ');
  return unique.length > 300 ? `${unique.slice(0, 300)}…` : unique || 'no error text';
}

/**
 * Why `videoPath` cannot name a video file, or undefined. A NUL byte cannot be in a file name (Node refuses it with
 * a TypeError, which would be retried forever); newlines and leading dashes are legal and handled: the path reaches
 * ffmpeg as one `file:/absolute/path` argument, never as an option or a protocol.
 */
function badPathReason(videoPath: unknown): string | undefined {
  if (typeof videoPath !== 'string' || videoPath.trim() === '') return 'no video path was given';
  if (videoPath.includes('\0')) return 'the path contains a NUL byte, which no file name can';
  if (Buffer.byteLength(videoPath) > 4096) return 'the path is longer than 4096 bytes';
  return undefined;
}

/** Reads the file's size, turning what is wrong with the file itself into `InvalidInput`. */
async function regularFileSize(abs: string): Promise<number> {
  try {
    const st = await fs.stat(abs);
    if (!st.isFile()) {
      throw invalidInput(`Video ${abs} is not a regular file (it is a folder, a pipe or a device). ${whatToDo}`, {
        videoPath: abs,
        reason: 'not a regular file',
      });
    }
    return st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw invalidInput(`Video file ${abs} does not exist. Check the path, or remove the item from the batch.`, {
        videoPath: abs,
        reason: 'missing',
      });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw invalidInput(
        `Video file ${abs} cannot be read (permission denied). Fix its permissions or remove it from the batch.`,
        { videoPath: abs, reason: 'permission denied' },
      );
    }
    if (code === 'ENAMETOOLONG' || code === 'ELOOP') {
      const reason = code === 'ELOOP' ? 'a loop of symbolic links' : 'a file name too long';
      throw invalidInput(`Video path ${abs} cannot be opened: ${reason}. ${whatToDo}`, { videoPath: abs, reason });
    }
    throw err;
  }
}

async function firstBytes(file: string, count: number): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(count);
    const { bytesRead } = await handle.read(buffer, 0, count, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * The checks every read of a user's video starts with, before any tool runs: a usable path naming a regular,
 * non-empty file that is not a playlist. Returns the absolute path and the size; throws `invalidInput` otherwise.
 */
async function checkedVideoFile(videoPath: string): Promise<{ abs: string; size: number }> {
  const badPath = badPathReason(videoPath);
  if (badPath) {
    throw invalidInput(`Cannot probe ${JSON.stringify(videoPath)}: ${badPath}. Pass the path of a video file.`, {
      videoPath: typeof videoPath === 'string' ? videoPath : String(videoPath),
      reason: badPath,
    });
  }
  const abs = path.resolve(videoPath);
  const size = await regularFileSize(abs);
  if (size === 0) {
    throw invalidInput(`Video file ${abs} is empty (0 bytes). ${whatToDo}`, { videoPath: abs, reason: 'empty file' });
  }

  const kind = playlistKind(await firstBytes(abs, 512));
  if (kind) {
    const reason = playlistReason(kind);
    throw invalidInput(`Cannot read ${abs} as a video: ${reason}. ${whatToDo}`, { videoPath: abs, reason });
  }
  return { abs, size };
}

/** A probe and where its facts come from: the MP4 header read in-process, or ffprobe. */
export interface VideoFacts {
  probe: VideoProbe;
  source: 'mp4 header' | 'ffprobe';
}

/**
 * What {@link probeVideoDetailed} returns, without launching ffprobe when the file is a plain MP4/MOV whose header
 * this process reads exactly as ffprobe would (./mp4-header.ts): the same path, file and playlist checks first, the
 * same size and duration limits after ({@link videoProbeOf}). Anything else is probed by ffprobe. For callers that
 * run ffmpeg next anyway: its run is where a header that lies about the stream shows (see extract-frame.ts).
 */
export async function videoFacts(
  videoPath: string,
  options: Pick<ToolRunOptions, 'signal' | 'onTick'> = {},
): Promise<VideoFacts> {
  const { abs, size } = await checkedVideoFile(videoPath);
  const header = await readMp4Video(abs, size);
  if (header) return { probe: videoProbeOf(asProbeJson(header), abs), source: 'mp4 header' };
  return { probe: await ffprobeVideo(abs, options), source: 'ffprobe' };
}

/**
 * Everything {@link probeVideo} returns plus what frame extraction needs. Throws `invalidInput` (non-retryable) when
 * the file is missing, empty, not a video, a playlist, corrupt, crafted (absurd sizes or durations, output that
 * floods, a crash or a hang of ffprobe), has no video stream or no duration; throws a plain (retryable) Error when
 * ffprobe itself cannot run or is killed from outside.
 */
export async function probeVideoDetailed(
  videoPath: string,
  options: Pick<ToolRunOptions, 'signal' | 'onTick'> = {},
): Promise<VideoProbe> {
  const { abs } = await checkedVideoFile(videoPath);
  return ffprobeVideo(abs, options);
}

/** ffprobe's description of the checked file `abs` (see {@link checkedVideoFile}). */
async function ffprobeVideo(abs: string, options: Pick<ToolRunOptions, 'signal' | 'onTick'>): Promise<VideoProbe> {
  const fileArg = ffmpegFileArg(abs);
  const args = ['-hide_banner', '-v', 'error', ...safeInputOptions()];
  args.push('-print_format', 'json', '-show_format', '-show_streams', fileArg);
  let result;
  try {
    result = await runMediaTool(ffprobePath(), args, { ...options, timeoutMs: probeTimeoutMs });
  } catch (err) {
    if (!(err instanceof MediaToolLimitError)) throw err;
    const reason = `ffprobe stopped: ${err.message} (a valid video is read in about a second)`;
    throw invalidInput(`Cannot read ${abs} as a video: ${reason}. The file is probably crafted. ${whatToDo}`, {
      videoPath: abs,
      reason,
    });
  }
  if (result.exitSignal && crashSignals.includes(result.exitSignal)) {
    const reason = `ffprobe crashed (${result.exitSignal}) reading it`;
    throw invalidInput(`Cannot read ${abs} as a video: ${reason}; the file is corrupt or crafted. ${whatToDo}`, {
      videoPath: abs,
      reason,
    });
  }
  if (result.exitSignal) {
    throw new Error(`ffprobe was killed by ${result.exitSignal} while reading ${abs}; will retry.`);
  }
  if (result.exitCode !== 0) {
    const refused = refusedInputReason(result.stderr);
    if (refused) {
      throw invalidInput(`Cannot read ${abs} as a video: ${refused}. ${whatToDo}`, { videoPath: abs, reason: refused });
    }
    const reason = cleanProbeError(result.stderr, fileArg);
    throw invalidInput(
      `Cannot read ${abs} as a video: ffprobe says "${reason}". The file is not a video or is corrupt. ${whatToDo}`,
      { videoPath: abs, reason },
    );
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    const reason = 'ffprobe printed no readable description of it';
    throw invalidInput(`Cannot read ${abs} as a video: ${reason}. ${whatToDo}`, { videoPath: abs, reason });
  }
  return videoProbeOf(parsed, abs);
}

/**
 * Reads a video's duration, display size and codec with ffprobe. Bad input (missing, empty, not a video, corrupt,
 * no video stream, zero duration) fails with a non-retryable `InvalidInput` ApplicationFailure naming the file.
 */
export async function probeVideo(
  videoPath: string,
  options: Pick<ToolRunOptions, 'signal' | 'onTick'> = {},
): Promise<VideoInfo> {
  const { durationSeconds, width, height, codec } = await probeVideoDetailed(videoPath, options);
  return { durationSeconds, width, height, codec };
}
