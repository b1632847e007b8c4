/**
 * The ci-merge run's summary: one line per commit (repository, short sha, passed/failed, subject,
 * log), totals per repository, the pipeline's report (reduce) and where the builds are kept.
 */
import type { BuildRecord, CommitData } from '../../core/commit-build';
import { displayPath } from '../../infra/paths';
import type { CommitListing } from '../../client/ci-merge';
import type { PipelineRunResult } from '../../workflows/pipeline';

export interface CiMergeReport {
  runName: string;
  workflowId: string;
  listing: CommitListing;
  /** Each commit's recorded build (by sha); missing when it ended as a dead letter. */
  records: Map<string, BuildRecord | undefined>;
  result: PipelineRunResult;
  buildsDir: string;
  webUi: string;
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What became of one commit: its result column, its description and where its log is. */
function outcomeOf(report: CiMergeReport, sha: string, subject: string): [string, string, string] {
  const record = report.records.get(sha);
  if (!record) {
    const dead = report.result.deadLetters.find((d) => d.itemId === sha);
    return ['ERROR', `${subject} — ${dead ? `[${dead.error.type}] ${dead.error.message}` : 'no build recorded'}`, ''];
  }
  const how = record.timedOut
    ? ' (timed out)'
    : record.status === 'failed' && record.exitCode !== null
      ? ` (exit ${record.exitCode})`
      : '';
  const earlier = record.builtInRun === report.runName ? '' : ` [built in run ${record.builtInRun}]`;
  return [record.status === 'passed' ? 'passed' : 'FAILED', `${subject}${how}${earlier}`, displayPath(record.logPath)];
}

export function formatCiMergeSummary(report: CiMergeReport): string[] {
  const { listing, result } = report;
  const totals = new Map(listing.repositories.map((r) => [r.name, { passed: 0, failed: 0, notBuilt: 0 }]));
  const rows = listing.items.map((item) => {
    const [status, what, log] = outcomeOf(report, item.id, (item.data as unknown as CommitData).subject);
    const total = totals.get(item.origin ?? '')!;
    if (status === 'passed') total.passed += 1;
    else if (status === 'FAILED') total.failed += 1;
    else total.notBuilt += 1;
    return { origin: item.origin ?? '', sha: item.id.slice(0, 7), status, what, log };
  });
  const passed = rows.filter((r) => r.status === 'passed').length;
  const failed = rows.filter((r) => r.status === 'FAILED').length;
  const perRepo = listing.repositories.map((r) => `${r.name} ${r.commits}`).join(', ');
  const shared =
    listing.duplicates > 0 ? `; ${plural(listing.duplicates, 'commit')} in several repositories, built once` : '';
  const notBuilt = result.deadLettered > 0 ? `, ${result.deadLettered} not built` : '';
  const lines = [
    `ci-merge ${report.runName}: ${plural(rows.length, 'commit')} from ${plural(listing.repositories.length, 'repository', 'repositories')} (${perRepo}${shared}): ${passed} passed, ${failed} failed${notBuilt}`,
  ];
  const originWidth = Math.max(...rows.map((r) => r.origin.length));
  const whatWidth = Math.min(60, Math.max(...rows.map((r) => r.what.length)));
  for (const r of rows) {
    lines.push(
      `  ${r.origin.padEnd(originWidth)}  ${r.sha}  ${r.status.padEnd(6)}  ${r.what.padEnd(whatWidth)}  ${r.log}`.trimEnd(),
    );
  }
  const repoTotals = [...totals].map(([name, t]) => {
    if (t.passed + t.failed + t.notBuilt === 0) return `${name} no new commits`;
    const parts = [`${t.passed} passed`, `${t.failed} failed`, ...(t.notBuilt > 0 ? [`${t.notBuilt} not built`] : [])];
    return `${name} ${parts.join(', ')}`;
  });
  lines.push(`Per repository: ${repoTotals.join(' · ')}`);
  for (const [stage, r] of Object.entries(result.reduce)) {
    const histograms = Object.entries(r.histograms).map(([field, bins]) => {
      const sorted = Object.entries(bins).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      return `${field}: ${sorted.map(([bin, n]) => `${bin} ${n}`).join(', ')}`;
    });
    lines.push(`Report (${stage}): ${histograms.join(' · ')}`);
  }
  lines.push(`Builds: ${displayPath(report.buildsDir)}/ (a result .json and an output .log per commit and command)`);
  if (result.deadLettered > 0) {
    lines.push(`Not built: fix the cause, then build them with \`npm run cli -- dlq redrive ${report.workflowId}\``);
  }
  lines.push(`Web UI: ${report.webUi}`);
  return lines;
}
