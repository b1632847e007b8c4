/**
 * The lines of a run's summary about its results parts: where every item's line is, and the
 * failures grouped by reason (stage, error type, message pattern) with counts and a few
 * examples — a few lines whatever the run's size, never one line per item.
 */
import type { ResultsSummary } from '../activities/pipeline/results-types';
import { displayPath } from '../infra/paths';

const number = (n: number) => n.toLocaleString('en-US');

/** A location as a person reads it: a URI (`s3://…`) as is, a path relative to the current folder when inside it. */
export const displayLocation = (where: string): string => (/^[a-z0-9]+:\/\//.test(where) ? where : displayPath(where));

export function formatResultsSummary(results: ResultsSummary | undefined, indent = '  '): string[] {
  if (!results) return [];
  const lines: string[] = [];
  for (const g of results.failureGroups) {
    // One item: its line as ever; more: how many, the first one's reason, a few of them.
    lines.push(
      g.count === 1
        ? `${indent}FAILED  ${g.examples[0]}  at ${g.stage} [${g.type}]: ${g.message}`
        : `${indent}FAILED  ${number(g.count)} items at ${g.stage} [${g.type}], e.g. ${g.examples.join(', ')}: ${g.message}`,
    );
  }
  if (results.otherFailureGroups > 0) {
    lines.push(`${indent}… and ${number(results.otherFailureGroups)} other kinds of failure (see the results)`);
  }
  lines.push(...resultsLocationLines(results));
  return lines;
}

/** Where every item's line is: the parts, and the manifest that lists them (runs since manifests). */
export function resultsLocationLines(results: ResultsSummary): string[] {
  const lines = [
    `Results:       ${displayLocation(results.dir)}/part-NNNNN.jsonl (${results.parts} parts: one line per item, every failure with its reason)`,
  ];
  if (results.manifest) lines.push(`Manifest:      ${displayLocation(results.manifest)} (the parts and the counts)`);
  return lines;
}
