import type { PipelineRunResult } from '../workflows/pipeline';
import { resultsLocationLines } from './results-summary';

/** The run's summary: totals, each stage's counts, reductions and dead letters with reasons. */
export function formatPipelineSummary(name: string, result: PipelineRunResult, webUi: string): string {
  // Filters inside copy branches drop copies, so count drops per stage rather than per item.
  const dropped = Object.values(result.stages).reduce((n, c) => n + c.dropped, 0);
  const lines = [
    `Pipeline ${name}: ${result.total} items, ${result.completed} completed, ${dropped} dropped by filters, ${result.deadLettered} dead-lettered (${result.partitions} partition${result.partitions === 1 ? '' : 's'})`,
    '  stage                 entered   passed  dropped  dead',
  ];
  for (const [stage, c] of Object.entries(result.stages)) {
    if (c.entered === 0) continue;
    lines.push(
      `  ${stage.padEnd(20)} ${String(c.entered).padStart(8)} ${String(c.passed).padStart(8)} ${String(c.dropped).padStart(8)} ${String(c.deadLettered).padStart(5)}`,
    );
  }
  for (const [stage, r] of Object.entries(result.reduce)) {
    lines.push(`Reduce ${stage}: count ${r.count}`);
    for (const [field, sum] of Object.entries(r.sums)) lines.push(`  sum ${field} = ${sum}`);
    for (const [field, bins] of Object.entries(r.histograms)) {
      const top = Object.entries(bins).sort((a, b) => b[1] - a[1]);
      lines.push(`  histogram ${field}: ${top.map(([bin, n]) => `${bin} ${n}`).join(', ')}`);
    }
  }
  for (const d of result.deadLetters.slice(0, 20)) {
    lines.push(
      `  DEAD ${d.itemId} at ${d.stage} after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'} [${d.error.type}]: ${d.error.message}`,
    );
  }
  if (result.deadLettered > Math.min(20, result.deadLetters.length))
    lines.push(`  … and ${result.deadLettered - Math.min(20, result.deadLetters.length)} more dead letters`);
  if (result.results) lines.push(...resultsLocationLines(result.results));
  lines.push(`Web UI: ${webUi}`);
  return lines.join('\n');
}
