/**
 * Data types of the video-thumbnailer activities. Plain types and constants only: workflow code imports this file,
 * so it must not import anything with side effects or Node APIs. Media travel by path, never inline.
 */

export interface VideoInfo {
  durationSeconds: number;
  /** Display size: corrected for non-square pixels and rotation metadata, i.e. the size of an extracted frame. */
  width: number;
  height: number;
  /** ffprobe's codec name, e.g. "h264". */
  codec: string;
}

export interface ExtractFrameInput {
  /** Unique per item; used as a folder name, so no slashes, no "." / "..". */
  itemId: string;
  videoPath: string;
  /** The run's output folder (absolute path recommended: workers may have different working directories). */
  outputDir: string;
}

export interface ExtractedFrame {
  itemId: string;
  /** `<outputDir>/<itemId>/frame.png` */
  framePath: string;
  /** Where in the video the frame was taken from, in seconds from the start. */
  atSeconds: number;
  width: number;
  height: number;
  video: VideoInfo;
}

export interface ThumbnailSpec {
  width: number;
  format: 'jpeg' | 'webp' | 'png';
}

export interface MakeThumbnailsInput {
  itemId: string;
  framePath: string;
  outputDir: string;
  sizes: ThumbnailSpec[];
}

export interface ThumbnailFile {
  /** `<outputDir>/<itemId>/thumb-<width>.<jpg|webp|png>` */
  path: string;
  width: number;
  height: number;
  format: ThumbnailSpec['format'];
  bytes: number;
}

export interface ContactSheetInput {
  outputDir: string;
  entries: { itemId: string; thumbnailPath: string }[];
  /** Default: ceil(sqrt(number of entries)). */
  columns?: number;
  /** Cell width in pixels, default 320; cells are 16:9. */
  tileWidth?: number;
}

export interface ContactSheetFile {
  /** `<outputDir>/contact-sheet.jpg` */
  path: string;
  width: number;
  height: number;
  tiles: number;
}

export const DEFAULT_THUMBNAIL_SIZES: ThumbnailSpec[] = [
  { width: 320, format: 'jpeg' },
  { width: 640, format: 'webp' },
];
