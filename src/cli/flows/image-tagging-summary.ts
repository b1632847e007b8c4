/**
 * The summary of an image-tagging run for a person: how many images were tagged, their bytes and
 * pixels, the histogram of tags, where the report and the thumbnails are, and each dead letter
 * with its reason.
 */
import path from 'node:path';
import { sortedBins } from '../../activities/pipeline/histogram-svg';
import { thumbnailBox } from '../../activities/image-tagging/thumbnail-image';
import type { PipelineRunResult } from '../../workflows/pipeline';
import { displayLocation, formatResultsSummary } from '../results-summary';

/** A thumbnail found in the run's output folder. */
export interface ThumbnailListing {
  file: string;
  width: number;
  height: number;
}

export interface ImageTaggingSummaryInput {
  result: PipelineRunResult;
  tag: string;
  /** The reduce stage with the report, and the stage making thumbnails. */
  reportStage: string;
  thumbnailStage: string;
  thumbnailDir: string;
  /** The first few thumbnails, with their sizes. */
  thumbnails: ThumbnailListing[];
  /** How many thumbnails the folder holds. */
  thumbnailCount?: number;
  webUi: string;
}

/** Thumbnails listed one per line up to this many; more are counted. */
const listedThumbnails = 20;

const number = (n: number) => n.toLocaleString('en-US');

export function formatImageTaggingSummary(input: ImageTaggingSummaryInput): string[] {
  const { result, tag } = input;
  const thumbnailCount = input.thumbnailCount ?? input.thumbnails.length;
  const reduction = result.reduce[input.reportStage];
  const tagged = reduction?.count ?? 0;
  const thumbnailed = result.stages[input.thumbnailStage]?.passed ?? 0;
  const lines = [
    `Image tagging ${result.spec.name}/${result.run}: ${result.total} files, ${tagged} tagged, ${result.deadLettered} dead-lettered; ${thumbnailed} with tag "${tag}" got a thumbnail`,
  ];
  if (reduction) {
    lines.push(`  bytes ${number(reduction.sums.bytes ?? 0)} · pixels ${number(reduction.sums.pixels ?? 0)}`);
    const bins = sortedBins(reduction.histograms.tags ?? {});
    lines.push(`  tags: ${bins.map(([bin, n]) => `${bin} ${n}`).join(', ') || '(none)'}`);
  }
  const files = result.reports?.[input.reportStage]?.files ?? [];
  if (files.length > 0) lines.push(`Report:     ${files.map(displayLocation).join(', ')}`);
  lines.push(
    `Thumbnails: ${displayLocation(input.thumbnailDir)}/ (${thumbnailCount} files, at most ${thumbnailBox}×${thumbnailBox})`,
  );
  for (const t of input.thumbnails.slice(0, listedThumbnails)) {
    lines.push(`  ${path.basename(t.file)}  ${t.width}x${t.height}`);
  }
  const listed = Math.min(listedThumbnails, input.thumbnails.length);
  if (thumbnailCount > listed) lines.push(`  … and ${thumbnailCount - listed} more`);
  if (result.results) {
    // Failures grouped by reason, and where every item's line is: a few lines whatever the run's size.
    lines.push(...formatResultsSummary(result.results));
  } else {
    for (const d of result.deadLetters) {
      const file = typeof d.input.data.path === 'string' ? path.basename(d.input.data.path) : d.itemId;
      lines.push(`  DEAD ${file} at ${d.stage} [${d.error.type}]: ${d.error.message}`);
    }
    if (result.deadLettered > result.deadLetters.length) {
      lines.push(
        `  … and ${result.deadLettered - result.deadLetters.length} more dead letters (npm run cli -- dlq list ${result.spec.name}/${result.run})`,
      );
    }
  }
  lines.push(`Web UI:     ${input.webUi}`);
  return lines;
}
