/**
 * The first transcode flow's ladder (workflow types `transcode` / `transcodeUpload`, kept registered so their
 * recorded histories replay): a fixed ladder that scales small sources up. Frozen: those workflows decide their
 * children with these functions, so changing them would change what a replay expects. New runs use
 * {@link ladderFor} (renditions.ts), which never goes above the source. It shares that module's rounding and
 * 8K cap (evenNearest, maxLongSide): a change to either would change the sizes old runs replay with.
 */
import { evenNearest, maxLongSide, orientedLike, RENDITIONS, type RenditionSpec } from './renditions';
import type { RenditionName, SourceVideo } from './types';

/** A source is 4K when it holds at least 3840x2160 pixels in either orientation. */
function isAtLeast4k(source: Pick<SourceVideo, 'width' | 'height'>): boolean {
  return Math.max(source.width, source.height) >= 3840 && Math.min(source.width, source.height) >= 2160;
}

/** The old flow's renditions, in order: 4K (only from a 4K source), 1080p, 480p, GIF preview, poster. */
export function legacyRenditionsFor(source: Pick<SourceVideo, 'width' | 'height'>): RenditionSpec[] {
  const names: RenditionName[] = [
    ...(isAtLeast4k(source) ? (['2160p'] as const) : []),
    '1080p',
    '480p',
    'preview-gif',
    'poster',
  ];
  return names.map((name) => RENDITIONS[name]);
}

/** The old flow's size: the shorter side becomes `shortSide` whatever the source (so small sources were scaled up). */
export function legacyRenditionSize(
  spec: Pick<RenditionSpec, 'shortSide'>,
  source: Pick<SourceVideo, 'width' | 'height'>,
): { width: number; height: number } {
  const aspect = Math.max(source.width, source.height) / Math.min(source.width, source.height);
  const short = Math.min(spec.shortSide, evenNearest(maxLongSide / aspect));
  const long = Math.min(maxLongSide, evenNearest(short * aspect));
  return orientedLike(source, short, long);
}
