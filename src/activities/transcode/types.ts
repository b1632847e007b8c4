/**
 * Data types of the upload → transcode flow. Plain types only: workflow code imports this file. Media travel as
 * `blob://` URIs (src/storage/blob-store.ts), never inline.
 */

/** One uploaded video, as the CLI put it into the blob store. */
export interface Upload {
  /** Stable and ID-safe: a slug of the file name plus a short content hash; names the upload's child workflow. */
  id: string;
  /** The file name the person uploaded, for messages and summaries. */
  name: string;
  /** `blob://uploads/<sha256>.<ext>` */
  uri: string;
  /** Hex SHA-256 of the content: renditions are stored under it, so the same bytes are rendered once. */
  sha256: string;
  bytes: number;
}

/** What the probe of an upload found (ffprobe), enough to plan and encode the renditions. */
export interface SourceVideo {
  codec: string;
  /** Display size (pixel aspect and rotation applied): the size renditions are scaled from. */
  width: number;
  height: number;
  durationSeconds: number;
  frameRate: number;
  /** ffmpeg index of the video stream to encode (cover art skipped). */
  streamIndex: number;
}

export type RenditionName = '2160p' | '1080p' | '480p' | 'source-size' | 'preview-gif' | 'poster';

/** A rendition's file as ffprobe reads it back. */
export interface RenditionFile {
  rendition: RenditionName;
  uri: string;
  /** ffprobe's container name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `gif`, `image2`. */
  format: string;
  /** ffprobe's codec name, e.g. `h264`, `gif`, `mjpeg`. */
  codec: string;
  width: number;
  height: number;
  /** ffprobe's duration; null when it reports none. */
  durationSeconds: number | null;
  /** File size in bytes. */
  bytes: number;
}

export interface ProbeUploadInput {
  upload: Upload;
}

export interface RenderRenditionInput {
  upload: Upload;
  source: SourceVideo;
  rendition: RenditionName;
  /** Where to write it; deterministic (see renditionUri), so a retry or a second run finds it. */
  outputUri: string;
}

export interface RenderedRendition extends RenditionFile {
  /** True when a valid file from an earlier attempt or run was kept instead of rendering again. */
  reused: boolean;
}

export interface WriteManifestInput {
  upload: Upload;
  source: SourceVideo;
  renditions: { rendition: RenditionName; uri: string }[];
  manifestUri: string;
}

/** The manifest file (`manifest.json` beside the renditions). Same upload, same bytes: no timestamps. */
export interface TranscodeManifest {
  version: 1;
  source: SourceVideo & { uri: string; sha256: string; bytes: number };
  renditions: RenditionFile[];
}
