import path from 'node:path';
import type { BatchProgress } from '../core/work-item';
import { displayPath } from '../runtime/paths';
import type { ThumbnailerResult } from '../workflows/thumbnailer';
import { progressBar } from './progress-bar';

/** One line of progress, e.g. `  3/6 done · 2 running (extractFrame 2) · 1 failed`. */
export function formatProgress(p: BatchProgress): string {
  const stages = Object.entries(p.runningByStage)
    .map(([stage, n]) => `${stage} ${n}`)
    .join(', ');
  return `${progressBar(p.done, p.total)} ${p.done}/${p.total} done · ${p.running} running${stages ? ` (${stages})` : ''} · ${p.failed} failed`;
}

/** The run's summary, readable at a glance: counts, failures with reasons, outputs, links. */
export function formatThumbnailerSummary(
  result: ThumbnailerResult,
  links: { webUi: string; outputDir: string },
): string {
  const { progress } = result;
  const lines = [
    `Thumbnailer run: ${progress.total} items, ${progress.succeeded} succeeded, ${progress.failed} failed`,
  ];
  for (const outcome of result.outcomes) {
    if (outcome.status === 'succeeded') {
      const { frame, thumbnails } = outcome.result;
      const files = thumbnails.map((t) => `${path.basename(t.path)} ${t.width}x${t.height}`).join(', ');
      lines.push(`  ok      ${outcome.itemId}/  frame at ${frame.atSeconds.toFixed(1)} s; ${files}`);
    } else {
      const f = outcome.failure;
      lines.push(`  FAILED  ${outcome.itemId}  at ${f.stage} [${f.type}]: ${f.message}`);
    }
  }
  lines.push(`Outputs:       ${displayPath(links.outputDir)}/<item>/`);
  if (progress.failed > 0)
    lines.push(`Set aside:     ${displayPath(path.join(links.outputDir, 'failed'))}/<item>.json (item and reason)`);
  const sheet = result.contactSheet;
  lines.push(
    `Contact sheet: ${sheet ? `${displayPath(sheet.path)} (${sheet.width}x${sheet.height}, ${sheet.tiles} tiles)` : 'none (no item succeeded)'}`,
  );
  lines.push(`Web UI:        ${links.webUi}`);
  return lines.join('\n');
}
