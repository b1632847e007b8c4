/**
 * Turning ffprobe's JSON into a {@link VideoProbe}. The JSON describes a file an attacker may have crafted, so no
 * field is trusted: every value is type-checked, every number must be finite and in range, and anything that does
 * not describe a usable video ends as a non-retryable `InvalidInput` with a reason — never a TypeError, NaN sizes, or
 * a size that would make ffmpeg allocate gigabytes for one frame.
 */
import { invalidInput } from '../errors';
import type { VideoInfo } from '../thumbnailer/types';

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

/** Largest side, in pixels, of a picture we decode (8K is 7680; H.264/HEVC levels stop at 8192 or 16384). */
export const MAX_SIDE = 16_384;
/** Largest picture, in pixels (8192×8192: one RGB frame of it is 200 MB). */
export const MAX_PIXELS = 8192 * 8192;
/** Longest duration believed (a month); a header claiming more is crafted or broken. */
export const MAX_DURATION_SECONDS = 31 * 24 * 3600;

export const whatToDo = 'Check the file or remove it from the batch.';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A finite number > 0 from a JSON number or numeric string (ffprobe prints durations as strings, "N/A" when unknown). */
function positiveNumber(value: unknown): number | undefined {
  if (typeof value !== 'number' && typeof value !== 'string') return undefined;
  if (typeof value === 'string' && !/^\s*[0-9.eE+-]+\s*$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** `num:den` or `num/den` with both > 0, e.g. "16:9", "30000/1001". */
function ratio(value: unknown): number | undefined {
  const t = text(value);
  if (!t) return undefined;
  const m = /^(\d+(?:\.\d+)?)[:/](\d+(?:\.\d+)?)$/.exec(t.trim());
  if (!m) return undefined;
  const r = Number(m[1]) / Number(m[2]);
  return Number.isFinite(r) && r > 0 ? r : undefined;
}

function rotationOf(stream: Json): number {
  let raw: number | undefined;
  const sideData = Array.isArray(stream.side_data_list) ? stream.side_data_list : [];
  for (const side of sideData) {
    const value = isObject(side) ? side.rotation : undefined;
    if ((typeof value === 'number' || typeof value === 'string') && Number.isFinite(Number(value))) raw = Number(value);
  }
  const tag = isObject(stream.tags) ? stream.tags.rotate : undefined;
  if (raw === undefined && typeof tag === 'string' && Number.isFinite(Number(tag))) raw = Number(tag);
  if (raw === undefined || Math.abs(raw) > 1e6) return 0;
  // ffprobe reports the display matrix counter-clockwise (negative for clockwise); the old `rotate` tag is clockwise.
  // Only whether width and height swap matters here, so the sign convention does not.
  return (((Math.round(raw / 90) * 90) % 360) + 360) % 360;
}

function isCoverArt(stream: Json): boolean {
  return isObject(stream.disposition) && Number(stream.disposition.attached_pic) === 1;
}

/**
 * The video facts in ffprobe's `-show_format -show_streams` JSON (already parsed, of any shape) of the file `abs`.
 * Throws `InvalidInput` naming `abs` when it describes no usable video.
 */
export function videoProbeOf(parsed: unknown, abs: string): VideoProbe {
  const refuse = (reason: string, sentence = `${abs}: ${reason}. ${whatToDo}`) => {
    throw invalidInput(sentence, { videoPath: abs, reason });
  };
  const root = isObject(parsed) ? parsed : {};
  const streams = (Array.isArray(root.streams) ? root.streams : []).filter(isObject);
  const format = isObject(root.format) ? root.format : {};
  const formatName = text(format.format_name) ?? 'unknown';
  const video = streams.find((s) => s.codec_type === 'video' && !isCoverArt(s));
  if (!video) {
    const found =
      streams
        .slice(0, 10)
        .map((s) => `${text(s.codec_type) ?? '?'} ${text(s.codec_name) ?? '?'}`)
        .join(', ') || 'no streams at all';
    const reason = `no video stream (ffprobe read it as "${formatName}" with ${found})`;
    return refuse(reason, `${abs} contains ${reason}; it is not a video. ${whatToDo}`);
  }
  const codec = text(video.codec_name) ?? 'unknown';
  if (formatName === 'image2' || formatName.endsWith('_pipe')) {
    const reason = `a still image (${codec === 'unknown' ? formatName : codec}), not a video`;
    return refuse(reason, `${abs} is ${reason}. ${whatToDo}`);
  }
  const codedWidth = Number(video.width);
  const codedHeight = Number(video.height);
  if (!(Number.isInteger(codedWidth) && Number.isInteger(codedHeight) && codedWidth > 0 && codedHeight > 0)) {
    return refuse('the video stream has no picture size (the stream is probably corrupt)');
  }
  const durationSeconds = positiveNumber(format.duration) ?? positiveNumber(video.duration);
  if (durationSeconds === undefined) return refuse('the video has zero or unknown duration');
  if (durationSeconds > MAX_DURATION_SECONDS) {
    return refuse(
      `the file claims a duration of ${Math.round(durationSeconds)} s, more than the ${MAX_DURATION_SECONDS} s ` +
        '(31 days) accepted; its header is broken or crafted',
    );
  }

  const sampleAspectRatio = ratio(video.sample_aspect_ratio) ?? 1;
  const rotation = rotationOf(video);
  const displayWidth = Math.max(1, Math.round(codedWidth * sampleAspectRatio));
  const swap = rotation === 90 || rotation === 270;
  const width = swap ? codedHeight : displayWidth;
  const height = swap ? displayWidth : codedHeight;
  for (const [w, h] of [
    [codedWidth, codedHeight],
    [width, height],
  ]) {
    if (w > MAX_SIDE || h > MAX_SIDE || w * h > MAX_PIXELS) {
      return refuse(
        `the picture is ${w}x${h} pixels, larger than the largest accepted (${MAX_SIDE} pixels a side, ` +
          `${MAX_PIXELS / 1024 / 1024} megapixels); its header is broken or crafted, or the video needs scaling down first`,
      );
    }
  }
  const frameRate = ratio(video.avg_frame_rate) ?? ratio(video.r_frame_rate) ?? 25;
  const index = Number(video.index);
  return {
    durationSeconds,
    width,
    height,
    codec,
    codedWidth,
    codedHeight,
    sampleAspectRatio,
    rotation,
    frameRate,
    streamIndex: Number.isInteger(index) && index >= 0 ? index : streams.indexOf(video),
  };
}
