/**
 * Report activity `histogram-report`: writes a reduce stage's merged aggregate as
 * `outputs/<pipeline>/<run>/<stage>/report.json` (count, sums, histograms with bins largest
 * first) and `histogram.svg` (a bar chart of every histogram) in the object store — under
 * `<dataDir>` on the local backend, in the bucket on S3. The content depends only on the
 * aggregate and each object appears only whole, so a retry on any host writes the same objects.
 */
import { storage } from '../../storage/storage';
import { histogramSvg, sortedBins } from './histogram-svg';
import type { ReportCall, ReportFiles } from './report-types';
import { folderName, runOutputKey } from './run-outputs';

export async function histogramReport(call: ReportCall): Promise<ReportFiles> {
  const store = storage();
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
  const title = `${call.pipeline} ${call.run}: ${count} items`;
  const json = await store.putBytes(
    runOutputKey(call.pipeline, call.run, folderName(call.stage, 'stage name'), 'report.json'),
    `${JSON.stringify(report, null, 2)}\n`,
    { contentType: 'application/json' },
  );
  const svg = await store.putBytes(
    runOutputKey(call.pipeline, call.run, folderName(call.stage, 'stage name'), 'histogram.svg'),
    histogramSvg(title, call.reduction),
    { contentType: 'image/svg+xml' },
  );
  return { files: [json.uri, svg.uri] };
}
