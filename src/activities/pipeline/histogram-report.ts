/**
 * Report activity `histogram-report`: writes a reduce stage's merged aggregate as
 * `<dataDir>/outputs/<pipeline>/<run>/<stage>/report.json` (count, sums, histograms with bins
 * largest first) and `histogram.svg` (a bar chart of every histogram). The content depends only
 * on the aggregate and each file is written to a temporary name and renamed, so a retry writes
 * the same complete files.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeAtomically } from '../fs/atomic-write';
import { histogramSvg, sortedBins } from './histogram-svg';
import type { ReportCall, ReportFiles } from './report-types';
import { runOutputDir } from './run-outputs';

export async function histogramReport(call: ReportCall): Promise<ReportFiles> {
  const dir = path.join(runOutputDir(call.pipeline, call.run), call.stage);
  const { count, sums, histograms } = call.reduction;
  const report = {
    pipeline: call.pipeline,
    run: call.run,
    stage: call.stage,
    count,
    sums,
    histograms: Object.fromEntries(
      Object.entries(histograms).map(([field, bins]) => [field, Object.fromEntries(sortedBins(bins))]),
    ),
  };
  const json = path.join(dir, 'report.json');
  const svg = path.join(dir, 'histogram.svg');
  await writeAtomically(json, (tmp) => fs.writeFile(tmp, `${JSON.stringify(report, null, 2)}\n`));
  const title = `${call.pipeline} ${call.run}: ${count} items`;
  await writeAtomically(svg, (tmp) => fs.writeFile(tmp, histogramSvg(title, call.reduction)));
  return { files: [json, svg] };
}
