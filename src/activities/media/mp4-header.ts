/**
 * The facts frame extraction needs (duration, the first video track's codec, size, pixel aspect, rotation and frame
 * rate), read from an MP4/MOV file's `moov` box in-process, so a plain MP4 needs no ffprobe launch before ffmpeg
 * (issue 12: a second process start is ~40 % of the work when the seek point falls on a keyframe).
 *
 * Deliberately narrow: anything it does not read exactly as FFmpeg's mov demuxer would (no `ftyp` first, fragmented
 * files, several sample descriptions, a movie matrix, a track matrix that is not a plain quarter turn, a track size
 * that disagrees with the sample description without a `pasp` box, codecs whose name depends on more than their
 * four-character code) returns undefined, and the caller asks ffprobe instead. Every number is bounds-checked; a
 * malformed box gives undefined, never an exception or an allocation beyond {@link maxMoovBytes}.
 */
import fs from 'node:fs/promises';

/** Largest `moov` read into memory (a 2-hour 60 fps movie's is ~10 MB); larger files go to ffprobe. */
export const maxMoovBytes = 32 * 1024 * 1024;
/** Most top-level boxes walked looking for `moov` before giving up (a plain file has 3-5). */
const maxTopLevelBoxes = 64;
/** Most `stts` entries summed (constant frame rate has 1-2). */
const maxTimeToSampleEntries = 1_000_000;

/** ffprobe's codec_name for the sample-entry codes read here; codes not listed go to ffprobe. */
const codecNames: Record<string, string> = {
  avc1: 'h264',
  avc3: 'h264',
  hvc1: 'hevc',
  hev1: 'hevc',
  av01: 'av1',
  vp09: 'vp9',
};

/** The first video track of an MP4/MOV, in ffprobe's units. */
export interface Mp4Video {
  /** The movie's duration (`mvhd`), rounded to microseconds as ffprobe's `format.duration`. */
  durationSeconds: number;
  codec: string;
  /** Picture size of the sample description (what the decoder produces, before pixel aspect and rotation). */
  codedWidth: number;
  codedHeight: number;
  /** `pasp` as `h:v`, when the file has one. */
  sampleAspectRatio?: string;
  /** Quarter turns of the track matrix, in degrees (0, 90, 180, 270), in ffprobe's sense. */
  rotation: number;
  /** Average frame rate as `samples × timescale / duration` of `stts` (ffmpeg's avg_frame_rate), when known. */
  frameRate?: string;
  /** Index of the track among the file's tracks. */
  trackIndex: number;
}

interface Box {
  type: string;
  /** Start and end of the box's payload (after its header) in the buffer. */
  start: number;
  end: number;
}

/**
 * The header of the box at `buf[at]`: its type, whole size and header length, or undefined when fewer than
 * `readable` bytes hold it, or its size runs past the `available` bytes or below its header. Size 0 means "to the end".
 */
function boxHeader(
  buf: Buffer,
  at: number,
  readable: number,
  available: number,
): { type: string; size: number; header: number } | undefined {
  if (readable < 8) return undefined;
  let size = buf.readUInt32BE(at);
  const type = buf.toString('latin1', at + 4, at + 8);
  let header = 8;
  if (size === 1) {
    if (readable < 16) return undefined;
    const large = buf.readBigUInt64BE(at + 8);
    if (large > BigInt(available)) return undefined;
    size = Number(large);
    header = 16;
  } else if (size === 0) {
    size = available;
  }
  if (size < header || size > available) return undefined;
  return { type, size, header };
}

/** The child boxes of `buf[start, end)`, or undefined when a size runs outside it or below its header. */
function children(buf: Buffer, start: number, end: number): Box[] | undefined {
  const boxes: Box[] = [];
  let at = start;
  while (at < end) {
    const box = boxHeader(buf, at, end - at, end - at);
    if (!box) return undefined;
    boxes.push({ type: box.type, start: at + box.header, end: at + box.size });
    at += box.size;
  }
  return boxes;
}

const only = (boxes: Box[], type: string) => {
  const found = boxes.filter((b) => b.type === type);
  return found.length === 1 ? found[0] : undefined;
};

function childrenOf(buf: Buffer, box: Box | undefined): Box[] | undefined {
  return box ? children(buf, box.start, box.end) : undefined;
}

/** Reads an unsigned 32- or 64-bit field as a Number, or undefined when it does not fit the box or 2^53. */
function uint(buf: Buffer, box: Box, offset: number, bytes: 4 | 8): number | undefined {
  if (offset < 0 || box.start + offset + bytes > box.end) return undefined;
  if (bytes === 4) return buf.readUInt32BE(box.start + offset);
  const big = buf.readBigUInt64BE(box.start + offset);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : undefined;
}

/** The version of a full box (0 or 1), or undefined for another or none. */
function versionOf(buf: Buffer, box: Box): 0 | 1 | undefined {
  const flags = uint(buf, box, 0, 4);
  const version = flags === undefined ? undefined : flags >>> 24;
  return version === 0 || version === 1 ? version : undefined;
}

/** Timescale and duration of an `mvhd` or `mdhd` box (versions 0 and 1; same layout up to the duration). */
function timing(buf: Buffer, box: Box): { timescale: number; duration: number } | undefined {
  const version = versionOf(buf, box);
  if (version === undefined) return undefined;
  const timescale = uint(buf, box, version === 1 ? 20 : 12, 4);
  const duration = uint(buf, box, version === 1 ? 24 : 16, version === 1 ? 8 : 4);
  // All ones is "unknown" in version 0.
  if (!timescale || duration === undefined || (version === 0 && duration === 0xffffffff)) return undefined;
  return { timescale, duration };
}

/** The 3x3 matrix of an `mvhd` (offset after the duration) or `tkhd` box, as 9 signed 32-bit numbers. */
function matrix(buf: Buffer, box: Box, offset: number): number[] | undefined {
  if (box.start + offset + 36 > box.end) return undefined;
  return Array.from({ length: 9 }, (_, i) => buf.readInt32BE(box.start + offset + 4 * i));
}

const unit = 0x10000;
const identity = [unit, 0, 0, 0, unit, 0, 0, 0, 0x40000000];

/** Quarter turns of a matrix that only rotates by a multiple of 90° (no flip, scale or translation); else undefined. */
function quarterTurn(m: number[]): number | undefined {
  if (m[2] !== 0 || m[5] !== 0 || m[6] !== 0 || m[7] !== 0 || m[8] !== 0x40000000) return undefined;
  const [a, b, c, d] = [m[0], m[1], m[3], m[4]];
  if (a === unit && b === 0 && c === 0 && d === unit) return 0;
  // Counter-clockwise, as ffprobe reports the display matrix (see rotationOf in probe-output.ts).
  if (a === 0 && b === unit && c === -unit && d === 0) return 270;
  if (a === -unit && b === 0 && c === 0 && d === -unit) return 180;
  if (a === 0 && b === -unit && c === unit && d === 0) return 90;
  return undefined;
}

/** `tkhd`: the matrix and the 16.16 display size (versions 0 and 1). */
function trackHeader(buf: Buffer, box: Box): { matrix: number[]; width: number; height: number } | undefined {
  const version = versionOf(buf, box);
  if (version === undefined) return undefined;
  const matrixAt = version === 1 ? 52 : 40;
  const m = matrix(buf, box, matrixAt);
  const width = uint(buf, box, matrixAt + 36, 4);
  const height = uint(buf, box, matrixAt + 40, 4);
  if (!m || width === undefined || height === undefined) return undefined;
  return { matrix: m, width: width / unit, height: height / unit };
}

/** Sum of `stts` sample counts and durations (the frame rate's numerator and denominator). */
function timeToSample(buf: Buffer, box: Box): { samples: number; duration: number } | undefined {
  const count = uint(buf, box, 4, 4);
  if (count === undefined || count > maxTimeToSampleEntries || 8 + 8 * count > box.end - box.start) return undefined;
  let samples = 0;
  let duration = 0;
  for (let i = 0; i < count; i++) {
    const n = buf.readUInt32BE(box.start + 8 + 8 * i);
    const delta = buf.readUInt32BE(box.start + 12 + 8 * i);
    if (delta === 0) continue;
    samples += n;
    duration += n * delta;
  }
  return { samples, duration };
}

/** The first video track of a `moov` payload, or undefined when this reader cannot vouch for what it reads. */
export function videoOfMoov(
  buf: Buffer,
  moov: Box = { type: 'moov', start: 0, end: buf.length },
): Mp4Video | undefined {
  const boxes = childrenOf(buf, moov);
  if (!boxes || boxes.some((b) => b.type === 'mvex')) return undefined;
  const mvhd = only(boxes, 'mvhd');
  const version = mvhd && versionOf(buf, mvhd);
  if (!mvhd || version === undefined) return undefined;
  const movie = timing(buf, mvhd);
  // mvhd: after the duration come rate (4), volume (2), reserved (10), then the matrix.
  const movieMatrix = matrix(buf, mvhd, (version === 1 ? 32 : 20) + 16);
  if (!movie || movie.duration === 0 || !movieMatrix || movieMatrix.some((v, i) => v !== identity[i])) {
    return undefined;
  }
  const tracks = boxes.filter((b) => b.type === 'trak');
  for (let trackIndex = 0; trackIndex < tracks.length; trackIndex++) {
    const trak = childrenOf(buf, tracks[trackIndex]);
    const mdia = trak && childrenOf(buf, only(trak, 'mdia'));
    const hdlr = mdia && only(mdia, 'hdlr');
    if (!hdlr || hdlr.end - hdlr.start < 12) return undefined;
    if (buf.toString('latin1', hdlr.start + 8, hdlr.start + 12) !== 'vide') continue;
    return videoTrack(buf, trak, mdia, movie, trackIndex);
  }
  return undefined;
}

function videoTrack(
  buf: Buffer,
  trak: Box[],
  mdia: Box[],
  movie: { timescale: number; duration: number },
  trackIndex: number,
): Mp4Video | undefined {
  const tkhd = only(trak, 'tkhd');
  const header = tkhd && trackHeader(buf, tkhd);
  const rotation = header && quarterTurn(header.matrix);
  const minf = childrenOf(buf, only(mdia, 'minf'));
  const stbl = minf && childrenOf(buf, only(minf, 'stbl'));
  const stsd = stbl && only(stbl, 'stsd');
  if (!header || rotation === undefined || !stsd || uint(buf, stsd, 4, 4) !== 1) return undefined;
  // The one sample entry: a box whose payload is a VisualSampleEntry (78 bytes), then boxes such as avcC and pasp.
  const entries = children(buf, stsd.start + 8, stsd.end);
  if (!entries || entries.length !== 1 || entries[0].end - entries[0].start < 78) return undefined;
  const entry = entries[0];
  const codec = codecNames[entry.type];
  const codedWidth = buf.readUInt16BE(entry.start + 24);
  const codedHeight = buf.readUInt16BE(entry.start + 26);
  const extensions = children(buf, entry.start + 78, entry.end);
  if (!codec || !extensions || codedWidth === 0 || codedHeight === 0) return undefined;
  const pasp = only(extensions, 'pasp');
  let sampleAspectRatio: string | undefined;
  if (pasp) {
    const h = uint(buf, pasp, 0, 4);
    const v = uint(buf, pasp, 4, 4);
    if (!h || !v) return undefined;
    sampleAspectRatio = `${h}:${v}`;
  } else if (header.width !== codedWidth || header.height !== codedHeight) {
    // The mov demuxer derives a pixel aspect from such a difference; let ffprobe say which.
    return undefined;
  }
  const mdhd = only(mdia, 'mdhd');
  const track = mdhd && timing(buf, mdhd);
  const stts = only(stbl, 'stts');
  const counts = stts && timeToSample(buf, stts);
  if (!track || !counts) return undefined;
  const frameRate =
    counts.samples > 0 && counts.duration > 0 ? `${counts.samples * track.timescale}/${counts.duration}` : undefined;
  return {
    durationSeconds: Math.round((movie.duration * 1e6) / movie.timescale) / 1e6,
    codec,
    codedWidth,
    codedHeight,
    sampleAspectRatio,
    rotation,
    frameRate,
    trackIndex,
  };
}

async function readAt(handle: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/**
 * The first video track of the MP4/MOV file `file` (of `size` bytes), or undefined when it is not one this reader
 * vouches for (then ask ffprobe). Walks the top-level boxes by their sizes (`ftyp` first, `moov` anywhere before a
 * `moof`) and reads only `moov`.
 */
export async function readMp4Video(file: string, size: number): Promise<Mp4Video | undefined> {
  const handle = await fs.open(file, 'r');
  try {
    let at = 0;
    for (let n = 0; n < maxTopLevelBoxes && at + 8 <= size; n++) {
      const head = await readAt(handle, at, 16);
      const box = boxHeader(head, 0, head.length, size - at);
      if (!box) return undefined;
      if (n === 0 && box.type !== 'ftyp') return undefined;
      if (box.type === 'moof') return undefined;
      if (box.type === 'moov') {
        const payload = box.size - box.header;
        if (payload > maxMoovBytes) return undefined;
        const moov = await readAt(handle, at + box.header, payload);
        return moov.length === payload ? videoOfMoov(moov) : undefined;
      }
      at += box.size;
    }
    return undefined;
  } finally {
    await handle.close();
  }
}

/**
 * `video` as the ffprobe `-show_format -show_streams` JSON it stands for, so the same checks and limits
 * ({@link import('./probe-output').videoProbeOf}) apply to it.
 */
export function asProbeJson(video: Mp4Video): unknown {
  return {
    format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: video.durationSeconds.toFixed(6) },
    streams: [
      {
        index: video.trackIndex,
        codec_type: 'video',
        codec_name: video.codec,
        width: video.codedWidth,
        height: video.codedHeight,
        ...(video.sampleAspectRatio ? { sample_aspect_ratio: video.sampleAspectRatio } : {}),
        ...(video.frameRate ? { avg_frame_rate: video.frameRate } : {}),
        side_data_list: [{ rotation: video.rotation }],
      },
    ],
  };
}
