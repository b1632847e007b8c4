/**
 * How each rendition is encoded: the ffmpeg options for one rendition of one source. Fast presets throughout
 * (veryfast, ultrafast for 4K): the flow must keep up on a small machine, and quality per bit matters less here than
 * turnaround. Pure: the render activity hands these options to fluent-ffmpeg.
 */
import { planFrame } from '../media/extract-frame';
import { GIF_SECONDS, RenditionSpec } from './renditions';
import type { SourceVideo } from './types';

export interface EncodePlan {
  /** Options before `-i` (seeking there is fast and exact enough for previews). */
  inputOptions: string[];
  outputOptions: string[];
  /** Duration the written file should have, for recognising a valid earlier output; undefined for a still image. */
  expectedSeconds?: number;
}

interface Mp4Settings {
  preset: string;
  profile: string;
  /** H.264 level; the mobile rendition stays at 3.1, which every phone decodes. */
  level?: string;
  crf: number;
  audioBitrate: string;
}

const mp4Settings: Record<'2160p' | '1080p' | '480p' | 'source-size', Mp4Settings> = {
  '2160p': { preset: 'ultrafast', profile: 'high', crf: 23, audioBitrate: '192k' },
  // Any size from 2x2 to just under 4K: high profile with no level, which x264 sets from the size.
  'source-size': { preset: 'veryfast', profile: 'high', crf: 23, audioBitrate: '128k' },
  '1080p': { preset: 'veryfast', profile: 'high', crf: 23, audioBitrate: '128k' },
  '480p': { preset: 'veryfast', profile: 'main', level: '3.1', crf: 26, audioBitrate: '96k' },
};

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** The part of the source the GIF shows: up to GIF_SECONDS from a third of the way in, inside the video. */
export function gifWindow(source: Pick<SourceVideo, 'durationSeconds'>): { startSeconds: number; seconds: number } {
  const seconds = Math.min(GIF_SECONDS, source.durationSeconds);
  const startSeconds = Math.max(0, Math.min(source.durationSeconds / 3, source.durationSeconds - seconds));
  return { startSeconds: round3(startSeconds), seconds: round3(seconds) };
}

/** The ffmpeg options that make `spec` at `size` (decided by the ladder, never above the source) from `source`. */
export function encodePlan(
  spec: RenditionSpec,
  size: { width: number; height: number },
  source: SourceVideo,
): EncodePlan {
  const { width, height } = size;
  // The stream the probe chose (not cover art); subtitles and data streams are never copied.
  const common = ['-map', `0:${source.streamIndex}`, '-sn', '-dn'];
  switch (spec.kind) {
    case 'mp4': {
      const s = mp4Settings[spec.name as keyof typeof mp4Settings];
      return {
        inputOptions: [],
        outputOptions: [
          ...common,
          // The first audio track when there is one (the `?` makes it optional).
          ...['-map', '0:a:0?', '-c:a', 'aac', '-b:a', s.audioBitrate],
          ...['-vf', `scale=${width}:${height},setsar=1`],
          ...['-c:v', 'libx264', '-preset', s.preset, '-profile:v', s.profile, ...(s.level ? ['-level', s.level] : [])],
          ...['-crf', String(s.crf), '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-f', 'mp4'],
        ],
        expectedSeconds: source.durationSeconds,
      };
    }
    case 'gif': {
      const { startSeconds, seconds } = gifWindow(source);
      // One pass with a palette made from the clip itself: far better colours than GIF's default palette.
      const filter = `fps=10,scale=${width}:${height}:flags=lanczos,setsar=1,split[a][b];[a]palettegen=max_colors=128[p];[b][p]paletteuse`;
      return {
        inputOptions: ['-ss', startSeconds.toFixed(3), '-t', seconds.toFixed(3)],
        outputOptions: [...common, '-an', '-vf', filter, '-loop', '0', '-f', 'gif'],
        expectedSeconds: seconds,
      };
    }
    case 'jpeg': {
      // The thumbnailer's choice of frame: a third of the way in, the most representative of a short window.
      const { seekSeconds, windowFrames } = planFrame(source);
      return {
        inputOptions: ['-ss', seekSeconds.toFixed(3)],
        outputOptions: [
          ...common,
          '-an',
          ...['-vf', `thumbnail=${windowFrames},scale=${width}:${height},setsar=1`],
          ...['-frames:v', '1', '-q:v', '3', '-f', 'image2', '-update', '1'],
        ],
      };
    }
  }
}
