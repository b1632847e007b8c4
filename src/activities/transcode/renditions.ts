/**
 * The rendition ladder of the transcode flow and the pure rules around it: which renditions an upload gets (4K only
 * from a 4K source), their pixel sizes and their deterministic blob URIs. No I/O: the workflow decides the fan-out
 * with these functions and the render activity encodes with the same numbers.
 */
import { blobUri } from '../../core/blob-uri';
import type { RenditionName, SourceVideo } from './types';

export interface RenditionSpec {
  name: RenditionName;
  /** A person's name for it, e.g. `1080p H.264 MP4`. */
  label: string;
  kind: 'mp4' | 'gif' | 'jpeg';
  /** Pixels of the shorter side (height for landscape, width for portrait); the other follows the aspect ratio. */
  shortSide: number;
  /** File name inside the upload's rendition folder. */
  file: string;
  /** The codec ffprobe must read back from the file. */
  codec: string;
}

export const RENDITIONS: Record<RenditionName, RenditionSpec> = {
  '2160p': { name: '2160p', label: '4K H.264 MP4', kind: 'mp4', shortSide: 2160, file: '2160p.mp4', codec: 'h264' },
  '1080p': { name: '1080p', label: '1080p H.264 MP4', kind: 'mp4', shortSide: 1080, file: '1080p.mp4', codec: 'h264' },
  '480p': {
    name: '480p',
    label: '480p H.264 MP4 (mobile)',
    kind: 'mp4',
    shortSide: 480,
    file: '480p.mp4',
    codec: 'h264',
  },
  'preview-gif': {
    name: 'preview-gif',
    label: 'animated GIF preview',
    kind: 'gif',
    shortSide: 240,
    file: 'preview.gif',
    codec: 'gif',
  },
  poster: {
    name: 'poster',
    label: 'poster image (JPEG)',
    kind: 'jpeg',
    shortSide: 720,
    file: 'poster.jpg',
    codec: 'mjpeg',
  },
};

/** Longest GIF preview: a few seconds keep the file small enough for a page. */
export const GIF_SECONDS = 3;

/** A source is 4K when it holds at least 3840x2160 pixels in either orientation. */
function isAtLeast4k(source: Pick<SourceVideo, 'width' | 'height'>): boolean {
  return Math.max(source.width, source.height) >= 3840 && Math.min(source.width, source.height) >= 2160;
}

/** The renditions an upload gets, in order: 4K (only from a 4K source), 1080p, 480p, GIF preview, poster. */
export function renditionsFor(source: Pick<SourceVideo, 'width' | 'height'>): RenditionSpec[] {
  const names: RenditionName[] = [
    ...(isAtLeast4k(source) ? (['2160p'] as const) : []),
    '1080p',
    '480p',
    'preview-gif',
    'poster',
  ];
  return names.map((name) => RENDITIONS[name]);
}

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);
/** Longest side any rendition gets (8K): a panorama-shaped source must not ask the encoder for 100,000 pixels. */
const maxLongSide = 7680;

/**
 * The rendition's size for a source: its shorter side becomes `shortSide` (a fixed ladder: smaller sources are scaled
 * up, so every upload gets the same set) and the longer side keeps the aspect ratio, rounded to even pixels as H.264
 * with 4:2:0 chroma needs. Extreme aspect ratios are scaled down to fit {@link maxLongSide}.
 */
export function renditionSize(
  spec: Pick<RenditionSpec, 'shortSide'>,
  source: Pick<SourceVideo, 'width' | 'height'>,
): { width: number; height: number } {
  const aspect = Math.max(source.width, source.height) / Math.min(source.width, source.height);
  const short = Math.min(spec.shortSide, even(maxLongSide / aspect));
  const long = Math.min(maxLongSide, even(short * aspect));
  return source.width >= source.height ? { width: long, height: short } : { width: short, height: long };
}

/** Renditions are stored by content hash, so the same bytes uploaded twice (any name, any run) are rendered once. */
export function renditionUri(sha256: string, rendition: RenditionName): string {
  return blobUri(`renditions/${sha256}/${RENDITIONS[rendition].file}`);
}

export function manifestUri(sha256: string): string {
  return blobUri(`renditions/${sha256}/manifest.json`);
}
