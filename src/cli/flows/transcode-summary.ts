/** What a transcode run prints: per upload each rendition as ffprobe read it back, the manifest, failures and why. */
import path from 'node:path';
import type { RenderedRendition } from '../../activities/transcode/types';
import type { BlobStore } from '../../runtime/blob-store';
import { displayPath } from '../../runtime/paths';
import type { TranscodeRunResult } from '../../workflows/flows/transcode';

export function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return bytes >= 1e3 ? `${(bytes / 1e3).toFixed(1)} kB` : `${bytes} B`;
}

/** Column widths of a rendition row; negative ones are right-aligned (numbers). The file name comes last. */
const widths = [11, 5, -9, -7, -8];

function row(cells: string[], file: string): string {
  const padded = cells.map((c, i) => (widths[i] < 0 ? c.padStart(-widths[i]) : c.padEnd(widths[i])));
  return `      ${[...padded, file].join('  ')}`;
}

function renditionLine(r: RenderedRendition, file: string): string {
  const seconds = r.durationSeconds === null ? '–' : `${r.durationSeconds.toFixed(2)} s`;
  const cells = [r.rendition, r.codec, `${r.width}x${r.height}`, seconds, formatBytes(r.bytes)];
  return row(cells, path.basename(file)) + (r.reused ? '  (kept: rendered before)' : '');
}

/**
 * One line per upload (source, where its files are), one per rendition (codec, size, duration, bytes, file), the
 * manifest; failed uploads with the stage and reason. `names` maps upload IDs to the file names a person gave.
 */
export function formatTranscodeSummary(
  result: TranscodeRunResult,
  names: Map<string, string>,
  store: BlobStore,
  webUi: string,
): string[] {
  const { progress } = result;
  const lines = [
    `Transcode run ${result.run}: ${progress.total} uploads, ${progress.succeeded} transcoded, ${progress.failed} failed`,
  ];
  for (const outcome of result.outcomes) {
    if (outcome.status === 'failed') {
      const f = outcome.failure;
      lines.push(`  FAILED  ${names.get(outcome.itemId) ?? outcome.itemId}  at ${f.stage} [${f.type}]: ${f.message}`);
      continue;
    }
    const { upload, source, renditions, manifestUri } = outcome.result;
    const manifest = store.pathOf(manifestUri);
    lines.push(
      `  ok      ${upload.name} (${source.codec} ${source.width}x${source.height}, ${source.durationSeconds.toFixed(1)} s) → ${displayPath(path.dirname(manifest))}/`,
    );
    for (const r of renditions) lines.push(renditionLine(r, store.pathOf(r.uri)));
    lines.push(row(['manifest', '', '', '', ''], path.basename(manifest)));
  }
  lines.push(`Web UI: ${webUi}`);
  return lines;
}
