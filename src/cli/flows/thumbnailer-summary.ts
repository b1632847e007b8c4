import path from 'node:path';
import { displayPath } from '../../infra/paths';
import type { PipelineRunResult } from '../../workflows/pipeline';
import { formatResultsSummary } from '../results-summary';

const number = (n: number) => n.toLocaleString('en-US');

/**
 * The thumbnailer run's summary, readable at a glance whatever its size: counts, a few items that
 * succeeded, failures grouped by reason with examples, where the outputs, the results (every
 * item's line) and the contact sheets are, and the Web UI link.
 */
export function formatThumbnailerSummary(
  result: PipelineRunResult,
  links: { webUi: string; outputDir: string },
): string {
  const succeeded = result.results?.counts.completed ?? result.completed;
  const lines = [
    `Thumbnailer run: ${number(result.total)} items, ${number(succeeded)} succeeded, ${number(result.deadLettered)} failed`,
  ];
  const examples = result.results?.completedExamples ?? [];
  if (examples.length > 0) {
    lines.push(
      `  ok      ${examples.join(', ')}${succeeded > examples.length ? ` and ${number(succeeded - examples.length)} more` : ''} (each: frame.png, thumb-<width>.<ext>)`,
    );
  }
  lines.push(...formatResultsSummary(result.results));
  if (!result.results) {
    for (const d of result.deadLetters)
      lines.push(`  FAILED  ${d.itemId}  at ${d.stage} [${d.error.type}]: ${d.error.message}`);
  }
  lines.push(`Outputs:       ${displayPath(links.outputDir)}/<item>/`);
  const sheets = result.reports?.['contact-sheets'];
  const files = sheets?.files ?? [];
  if (files.length === 0) lines.push('Contact sheet: none (no item succeeded)');
  else if (files.length === 1) lines.push(`Contact sheet: ${displayPath(files[0])}`);
  else {
    lines.push(
      `Contact sheets: ${files.length} in ${displayPath(path.dirname(files[0]))}/ (${files.map((f) => path.basename(f)).join(', ')}; up to 1,000 items each)`,
    );
  }
  for (const note of sheets?.notes ?? []) lines.push(`  note: ${note}`);
  lines.push(`Web UI:        ${links.webUi}`);
  return lines.join('\n');
}
