/**
 * The rendition ladder of the transcode flow and the pure rules around it: which renditions an upload gets, their
 * pixel sizes and their deterministic blob URIs. A ladder never goes above the source (what video platforms do): a
 * rung is made only when the source is at least that tall (short side), and a source between rungs or below the
 * lowest also gets one rendition at its own size, so every upload has an MP4 at full quality. No I/O: the probe
 * stage plans the ladder with these functions and the render stage encodes with the same numbers.
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
  'source-size': {
    name: 'source-size',
    label: 'H.264 MP4 at the source size',
    kind: 'mp4',
    // Never scaled: the source's own size (even pixels) is what it gets.
    shortSide: Number.POSITIVE_INFINITY,
    file: 'source-size.mp4',
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

/** The MP4 rungs of the ladder, tallest first. */
const videoRungs: RenditionName[] = ['2160p', '1080p', '480p'];

/** One rendition as planned for one source: what to make and at which size. Plain data (item data carries it). */
export interface PlannedRendition {
  rendition: RenditionName;
  width: number;
  height: number;
}

/** Down to even pixels (H.264 with 4:2:0 chroma needs them), at least 2. */
const evenDown = (n: number) => Math.max(2, Math.floor(n / 2) * 2);
/** To the nearest even pixels, at least 2 (the old ladder, renditions-legacy.ts, rounds this way too). */
export const evenNearest = (n: number) => Math.max(2, Math.round(n / 2) * 2);
/** Longest side any rendition gets (8K): a panorama-shaped source must not ask the encoder for 100,000 pixels. */
export const maxLongSide = 7680;

/** A size by its shorter and longer side, turned the way the source is (landscape or portrait). */
export function orientedLike(
  source: Pick<SourceVideo, 'width' | 'height'>,
  short: number,
  long: number,
): { width: number; height: number } {
  return source.width >= source.height ? { width: long, height: short } : { width: short, height: long };
}

/**
 * The size of a rendition whose shorter side aims at `spec.shortSide`, never above the source: the shorter side is
 * the smaller of the rung and the source's (even), the longer side keeps the aspect ratio and stays within the
 * source's (even) and {@link maxLongSide}. A side of 1 pixel becomes 2, the least H.264 can hold.
 */
export function renditionSize(
  spec: Pick<RenditionSpec, 'shortSide'>,
  source: Pick<SourceVideo, 'width' | 'height'>,
): { width: number; height: number } {
  const sourceShort = Math.min(source.width, source.height);
  const sourceLong = Math.max(source.width, source.height);
  const aspect = sourceLong / sourceShort;
  const short = Math.min(spec.shortSide, evenDown(sourceShort), evenDown(maxLongSide / aspect));
  const long = Math.min(evenDown(sourceLong), maxLongSide, evenNearest(short * aspect));
  return orientedLike(source, short, long);
}

const planned = (name: RenditionName, source: Pick<SourceVideo, 'width' | 'height'>): PlannedRendition => ({
  rendition: name,
  ...renditionSize(RENDITIONS[name], source),
});

/**
 * The renditions an upload gets, largest first: each MP4 rung the source reaches (2160p, 1080p, 480p by the shorter
 * side), an MP4 at the source's own size when it is below 2160p and not exactly a rung (a 1280x720 upload keeps its
 * 720 lines; a 64x64 one gets a 64x64 MP4), then the GIF preview and the poster, both at most the source's size.
 */
export function ladderFor(source: Pick<SourceVideo, 'width' | 'height'>): PlannedRendition[] {
  const short = Math.min(source.width, source.height);
  const rungs = videoRungs.filter((name) => RENDITIONS[name].shortSide <= short).map((name) => planned(name, source));
  const own = planned('source-size', source);
  const sameAsRung = rungs.some((r) => r.width === own.width && r.height === own.height);
  const ownSize = short < RENDITIONS['2160p'].shortSide && !sameAsRung ? [own] : [];
  return [...ownSize, ...rungs, planned('preview-gif', source), planned('poster', source)];
}

/** Renditions are stored by content hash, so the same bytes uploaded twice (any name, any run) are rendered once. */
export function renditionUri(sha256: string, rendition: RenditionName): string {
  return blobUri(`renditions/${sha256}/${RENDITIONS[rendition].file}`);
}

export function manifestUri(sha256: string): string {
  return blobUri(`renditions/${sha256}/manifest.json`);
}
