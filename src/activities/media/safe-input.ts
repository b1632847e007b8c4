/**
 * What ffmpeg/ffprobe may do with a user's media file. Left alone, ffmpeg picks its demuxer from the file's content,
 * not its name: an HLS playlist (`#EXTM3U`) or an ffconcat list uploaded as `clip.mp4` is opened by the `hls` /
 * `concat` demuxer, which then reads the files and URLs the playlist names — local files outside the input roots,
 * or http:// addresses inside the network. So every ffmpeg/ffprobe run on user media passes {@link safeInputOptions}
 * before its `-i`: only the `file` protocol, and only container formats that never open another file or URL.
 */

/**
 * Demuxers allowed for user media (ffmpeg's `-format_whitelist`; a demuxer whose name list, e.g.
 * `mov,mp4,m4a,3gp,3g2,mj2`, contains one of these is allowed). Deliberately absent: playlists and references
 * (`hls`, `concat`, `dash`, `imf`, `webm_dash_manifest`), image sequences (`image2`, which expands `%d` patterns to
 * other files), text renderers (`tty`), device and filter inputs (`lavfi`, `v4l2`), raw data formats.
 */
export const ALLOWED_DEMUXERS = [
  'mov',
  'mp4',
  'm4a',
  '3gp',
  '3g2',
  'mj2',
  'matroska',
  'webm',
  'avi',
  'mpegts',
  'mpeg',
  'flv',
  'ogg',
  'asf',
  'gif',
  'nut',
  'ivf',
] as const;

/** Demuxers that open what a playlist or reference file names: refused with a reason saying so. */
const referenceDemuxers = new Set(['hls', 'applehttp', 'concat', 'dash', 'imf', 'webm_dash_manifest']);

/** Input options for every ffmpeg/ffprobe run on user media; they go before `-i` (they apply to the next input). */
export function safeInputOptions(): string[] {
  return ['-protocol_whitelist', 'file', '-format_whitelist', ALLOWED_DEMUXERS.join(',')];
}

/**
 * When ffmpeg/ffprobe refused an input because of {@link safeInputOptions}, a reason a user can act on; else
 * undefined. ffmpeg logs `[hls @ 0x…] Format not on whitelist '…'` (the detected demuxer in the brackets) or
 * `Protocol '…' not on whitelist 'file'!`.
 */
export function refusedInputReason(stderr: string): string | undefined {
  const format = /\[([A-Za-z0-9_,]+) @ (?:0x)?[0-9a-fA-F]+\] Format not on whitelist/.exec(stderr);
  if (format) {
    const demuxer = format[1];
    if (demuxer === 'image2' || demuxer.endsWith('_pipe')) {
      return `it is a still image (ffmpeg reads it as "${demuxer}"), not a video`;
    }
    if (demuxer.split(',').some((name) => referenceDemuxers.has(name))) {
      return playlistReason(`ffmpeg reads it as "${demuxer}"`);
    }
    return `its format "${demuxer}" is not an accepted video container (accepted: MP4/MOV, Matroska/WebM, AVI, MPEG-TS/PS, FLV, Ogg, ASF/WMV, GIF, NUT, IVF)`;
  }
  const protocol = /Protocol '([^']*)' not on whitelist/.exec(stderr);
  if (protocol) {
    return `it refers to a "${protocol[1]}:" address, and media may only be read from the local file itself`;
  }
  return undefined;
}

/**
 * How playlists begin (after an optional byte-order mark and blank space): HLS `#EXTM3U`, `ffconcat version`, DASH
 * `<MPD`. Checked on the first bytes before ffmpeg runs, so they are refused with the same reason whichever ffmpeg
 * version is installed (older ones detect HLS only by its extension and report a misleading "moov atom not found").
 */
export function playlistKind(firstBytes: Buffer): string | undefined {
  const head = firstBytes
    .toString('latin1')
    .replace(/^\xef\xbb\xbf/, '')
    .trimStart();
  if (head.startsWith('#EXTM3U')) return 'an HLS playlist';
  if (head.startsWith('ffconcat version')) return 'an ffconcat list';
  if (/^(<\?xml[^>]*>\s*)?<MPD[\s>]/.test(head)) return 'a DASH manifest';
  return undefined;
}

/** The reason given for a playlist, whichever way it was recognised. */
export function playlistReason(kind: string): string {
  return (
    `it is a playlist or reference file (${kind}), which would make ffmpeg open the other files or URLs it ` +
    'names; playlists are refused, upload the video file itself'
  );
}
