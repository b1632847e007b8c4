import fs from 'node:fs/promises';
import path from 'node:path';
import { ffmpegFileArg, ffprobePath, runMediaTool, type ToolRunOptions } from '../../runtime/tools/ffmpeg';
import { invalidInput } from '../errors';
import type { VideoInfo } from './types';

/** What extracting a frame needs beyond the public {@link VideoInfo}. */
export interface VideoProbe extends VideoInfo {
  /** Size of the stored pictures (before pixel-aspect and rotation correction). */
  codedWidth: number;
  codedHeight: number;
  /** Sample (pixel) aspect ratio; 1 for square pixels. */
  sampleAspectRatio: number;
  /** Clockwise rotation from the container's display matrix, one of 0, 90, 180, 270. */
  rotation: number;
  /** Frames per second (average), 25 when the file does not say. */
  frameRate: number;
  /** ffprobe/ffmpeg index of the chosen video stream (the first one that is not cover art). */
  streamIndex: number;
}

interface FfprobeStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  duration?: string;
  sample_aspect_ratio?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number | string }[];
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string };
}

const whatToDo = 'Check the file or remove it from the batch.';
const probeTimeoutMs = 120_000;

function ratio(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^(\d+(?:\.\d+)?)[:/](\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!m) return undefined;
  const num = Number(m[1]);
  const den = Number(m[2]);
  return num > 0 && den > 0 ? num / den : undefined;
}

function positiveNumber(text: string | number | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function rotationOf(stream: FfprobeStream): number {
  let raw: number | undefined;
  for (const side of stream.side_data_list ?? []) {
    if (side.rotation !== undefined && Number.isFinite(Number(side.rotation))) raw = Number(side.rotation);
  }
  if (raw === undefined && stream.tags?.rotate !== undefined && Number.isFinite(Number(stream.tags.rotate))) {
    raw = Number(stream.tags.rotate);
  }
  if (raw === undefined) return 0;
  // ffprobe reports the display matrix counter-clockwise (negative for clockwise); the old `rotate` tag is clockwise.
  // Only whether width and height swap matters here, so the sign convention does not.
  return (((Math.round(raw / 90) * 90) % 360) + 360) % 360;
}

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
 * Everything {@link probeVideo} returns plus what frame extraction needs. Throws `invalidInput` (non-retryable) when
 * the file is missing, empty, not a video, corrupt, has no video stream or no duration; throws a plain (retryable)
 * Error when ffprobe itself cannot run.
 */
export async function probeVideoDetailed(
  videoPath: string,
  options: Pick<ToolRunOptions, 'signal' | 'onTick'> = {},
): Promise<VideoProbe> {
  if (typeof videoPath !== 'string' || videoPath.trim() === '') {
    throw invalidInput('No video path was given; pass the path of a video file.', { videoPath });
  }
  const abs = path.resolve(videoPath);
  let size: number;
  try {
    const st = await fs.stat(abs);
    if (!st.isFile()) {
      throw invalidInput(`Video ${abs} is not a regular file (it is a folder or a device). ${whatToDo}`, {
        videoPath: abs,
      });
    }
    size = st.size;
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
        {
          videoPath: abs,
          reason: 'permission denied',
        },
      );
    }
    throw err;
  }
  if (size === 0) {
    throw invalidInput(`Video file ${abs} is empty (0 bytes). ${whatToDo}`, { videoPath: abs, reason: 'empty file' });
  }

  const fileArg = ffmpegFileArg(abs);
  const result = await runMediaTool(
    ffprobePath(),
    ['-hide_banner', '-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', fileArg],
    { ...options, timeoutMs: probeTimeoutMs },
  );
  if (result.exitSignal) {
    throw new Error(`ffprobe was killed by ${result.exitSignal} while reading ${abs}; will retry.`);
  }
  if (result.exitCode !== 0) {
    const reason = cleanProbeError(result.stderr, fileArg);
    throw invalidInput(
      `Cannot read ${abs} as a video: ffprobe says "${reason}". The file is not a video or is corrupt. ${whatToDo}`,
      {
        videoPath: abs,
        reason,
      },
    );
  }

  let parsed: FfprobeOutput;
  try {
    parsed = JSON.parse(result.stdout) as FfprobeOutput;
  } catch {
    throw new Error(`ffprobe printed output that is not JSON for ${abs}: ${result.stdout.slice(0, 200)}`);
  }
  const streams = parsed.streams ?? [];
  const formatName = parsed.format?.format_name ?? 'unknown';
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) {
    const found = streams.map((s) => `${s.codec_type ?? '?'} ${s.codec_name ?? '?'}`).join(', ') || 'no streams at all';
    const reason = `no video stream (ffprobe read it as "${formatName}" with ${found})`;
    throw invalidInput(`${abs} contains ${reason}; it is not a video. ${whatToDo}`, { videoPath: abs, reason });
  }
  if (formatName === 'image2' || formatName.endsWith('_pipe')) {
    const reason = `a still image (${video.codec_name ?? formatName}), not a video`;
    throw invalidInput(`${abs} is ${reason}. ${whatToDo}`, { videoPath: abs, reason });
  }
  const codedWidth = video.width ?? 0;
  const codedHeight = video.height ?? 0;
  if (!(codedWidth > 0 && codedHeight > 0)) {
    const reason = 'the video stream has no picture size (the stream is probably corrupt)';
    throw invalidInput(`${abs}: ${reason}. ${whatToDo}`, { videoPath: abs, reason });
  }
  const durationSeconds = positiveNumber(parsed.format?.duration) ?? positiveNumber(video.duration);
  if (durationSeconds === undefined) {
    const reason = 'the video has zero or unknown duration';
    throw invalidInput(`${abs}: ${reason}. ${whatToDo}`, { videoPath: abs, reason });
  }

  const sampleAspectRatio = ratio(video.sample_aspect_ratio) ?? 1;
  const rotation = rotationOf(video);
  const displayWidth = Math.max(1, Math.round(codedWidth * sampleAspectRatio));
  const swap = rotation === 90 || rotation === 270;
  const frameRate = ratio(video.avg_frame_rate) ?? ratio(video.r_frame_rate) ?? 25;
  return {
    durationSeconds,
    width: swap ? codedHeight : displayWidth,
    height: swap ? displayWidth : codedHeight,
    codec: video.codec_name ?? 'unknown',
    codedWidth,
    codedHeight,
    sampleAspectRatio,
    rotation,
    frameRate,
    streamIndex: video.index ?? streams.indexOf(video),
  };
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
