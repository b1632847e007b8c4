/**
 * Reads a written rendition back with ffprobe (through fluent-ffmpeg): what the manifest records and what decides
 * whether an earlier output can be kept. The facts come from the file, never from what we meant to write.
 */
import fs from 'node:fs/promises';
import type { FfprobeData } from 'fluent-ffmpeg';
import { configuredFfmpeg, ffmpegFileArg } from '../media/ffmpeg';
import type { RenditionFile, RenditionName } from './types';

function ffprobe(file: string): Promise<FfprobeData> {
  return new Promise((resolve, reject) =>
    configuredFfmpeg().ffprobe(ffmpegFileArg(file), (err: unknown, data: FfprobeData) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(data),
    ),
  );
}

/** fluent-ffmpeg turns numeric fields into numbers and leaves `N/A` as text. */
function positive(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** ffprobe's reading of `file` (its first video stream), or an Error saying why it is not a readable rendition. */
export async function readRendition(file: string, rendition: RenditionName, uri: string): Promise<RenditionFile> {
  const { size } = await fs.stat(file);
  const data = await ffprobe(file);
  const video = data.streams.find((s) => s.codec_type === 'video');
  if (!video?.codec_name || !positive(video.width) || !positive(video.height)) {
    throw new Error(`ffprobe finds no video stream with a picture size in ${file}.`);
  }
  const duration = positive(data.format.duration) ?? positive(video.duration);
  return {
    rendition,
    uri,
    format: data.format.format_name ?? 'unknown',
    codec: video.codec_name,
    width: Number(video.width),
    height: Number(video.height),
    durationSeconds: duration ?? null,
    bytes: size,
  };
}
