/**
 * What a transcode run prints, whatever its size: the counts; the first few uploads with each rendition as ffprobe
 * read it back; failures grouped by reason (stage, error type, message pattern) with a few examples each; and where
 * every upload's line is (`results/transcode/<run>/part-NNNNN.jsonl` under the data folder). Never one line per
 * upload of a large run.
 */
import path from 'node:path';
import { readResultLines } from '../../activities/pipeline/results';
import type { FailureGroup, ResultLine } from '../../activities/pipeline/results-types';
import { manifestUri, renditionUri } from '../../activities/transcode/renditions';
import type { SourceVideo } from '../../activities/transcode/types';
import type { RenditionReport } from '../../activities/transcode/upload-item';
import type { BlobStore } from '../../storage/blob-store';
import { displayPath } from '../../infra/paths';
import type { PipelineRunResult } from '../../workflows/pipeline';

export function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return bytes >= 1e3 ? `${(bytes / 1e3).toFixed(1)} kB` : `${bytes} B`;
}

/** Uploads listed with their renditions; more are counted and found in the results parts. */
export const listedUploads = 10;

/** What the summary reads from the run's results parts: a few lines, never all of them. */
export interface TranscodeResultLines {
  /** The first {@link listedUploads} completed uploads. */
  completed: ResultLine[];
  /** The dead-letter line of each failure group's examples, by item ID. */
  examples: Map<string, ResultLine>;
}

/** Reads the few lines the summary shows from a results folder (streaming, one part at a time). */
export async function readSummaryLines(dir: string, groups: FailureGroup[]): Promise<TranscodeResultLines> {
  const wanted = new Set(groups.flatMap((g) => g.examples));
  const completed: ResultLine[] = [];
  const examples = new Map<string, ResultLine>();
  for await (const line of readResultLines(dir)) {
    if (line.status === 'completed' && completed.length < listedUploads) completed.push(line);
    if (line.status === 'deadLettered' && wanted.has(line.id)) examples.set(line.id, line);
    if (completed.length >= listedUploads && examples.size >= wanted.size) break;
  }
  return { completed, examples };
}

/** Column widths of a rendition row; negative ones are right-aligned (numbers). The file name comes last. */
const widths = [11, 5, -9, -7, -8];

function row(cells: string[], file: string): string {
  const padded = cells.map((c, i) => (widths[i] < 0 ? c.padStart(-widths[i]) : c.padEnd(widths[i])));
  return `      ${[...padded, file].join('  ')}`;
}

function renditionLine(r: RenditionReport, file: string): string {
  const seconds =
    r.durationSeconds === null || r.durationSeconds === undefined ? '–' : `${r.durationSeconds.toFixed(2)} s`;
  const cells = [r.rendition, r.codec, `${r.width}x${r.height}`, seconds, formatBytes(r.bytes)];
  return row(cells, path.basename(file)) + (r.reused ? '  (kept: rendered before)' : '');
}

const nameOf = (line: ResultLine) => {
  const name = (line.data ?? line.input?.data)?.name;
  return typeof name === 'string' ? name : line.id;
};

function uploadLines(line: ResultLine, store: BlobStore): string[] {
  const data = line.data ?? {};
  const source = data.source as SourceVideo | undefined;
  const renditions = (data.renditions ?? []) as RenditionReport[];
  const sha256 = String(data.sha256 ?? '');
  // The renditions' folder (local backend) or their s3://bucket/renditions/<sha256> prefix.
  const manifest = store.locationOf(manifestUri(sha256));
  const folder = store.isLocal ? displayPath(path.dirname(manifest)) : manifest.slice(0, -'/manifest.json'.length);
  const what = source
    ? ` (${source.codec} ${source.width}x${source.height}, ${source.durationSeconds.toFixed(1)} s)`
    : '';
  const lines = [`  ok      ${nameOf(line)}${what} → ${folder}/`];
  for (const r of renditions) lines.push(renditionLine(r, store.locationOf(renditionUri(sha256, r.rendition))));
  lines.push(row(['manifest', '', '', '', ''], 'manifest.json'));
  return lines;
}

export interface TranscodeSummaryInput {
  result: PipelineRunResult;
  lines: TranscodeResultLines;
  store: BlobStore;
  webUi: string;
}

export function formatTranscodeSummary({ result, lines, store, webUi }: TranscodeSummaryInput): string[] {
  const out = [
    `Transcode run ${result.run}: ${result.total} uploads, ${result.completed} transcoded, ${result.deadLettered} failed`,
  ];
  for (const line of lines.completed) out.push(...uploadLines(line, store));
  const more = result.completed - lines.completed.length;
  if (more > 0) out.push(`  … and ${more} more transcoded`);

  const summary = result.results;
  if (summary && summary.failureGroups.length > 0) {
    out.push('Failed, by reason:');
    for (const group of summary.failureGroups) {
      out.push(`  ${group.count} × at ${group.stage} [${group.type}]: ${group.pattern}`);
      for (const id of group.examples) {
        const example = lines.examples.get(id);
        out.push(`      e.g. ${example ? `${nameOf(example)}: ${example.error?.message ?? ''}` : id}`);
      }
    }
    if (summary.otherFailureGroups > 0) out.push(`  … and ${summary.otherFailureGroups} other reasons`);
  } else if (!summary) {
    // A run whose results parts are missing: the few dead letters the result carries.
    for (const d of result.deadLetters) {
      out.push(
        `  FAILED  ${nameOf({ id: d.itemId, status: 'deadLettered', stage: d.stage, input: d.input })}  at ${d.stage} [${d.error.type}]: ${d.error.message}`,
      );
    }
  }
  if (summary) out.push(`Every upload's outcome: ${displayPath(summary.dir)}/part-*.jsonl (${summary.parts} parts)`);
  out.push(`Web UI: ${webUi}`);
  return out;
}
