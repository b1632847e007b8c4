/**
 * Flow `transcode` on the pipeline engine (src/pipelines/transcode.ts): uploaded videos go into the local blob store
 * and each is probed and rendered to a ladder that never goes above the source — 4K, 1080p and 480p H.264 MP4 as far
 * as the source reaches, one MP4 at the source's own size when it lies between rungs or below them, an animated GIF
 * preview and a poster — plus a manifest of what ffprobe reads back from every file.
 *
 *   npm run cli -- run transcode <videos...> [--run NAME]   (--help: every option)
 *
 * Uploads are stored under `uploads/<sha256>.<ext>`, renditions under `renditions/<sha256 of the upload>/` — in
 * `<dataDir>/blobs/` on the local backend, in the bucket with BATCH_STORAGE=s3 — so the same video uploaded again
 * (any name, any run) is not rendered again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startTranscodeRun, uploadFiles } from '../../client/transcode';
import { blobStoreFor } from '../../storage/blob-store';
import { workflowUrl } from '../../infra/config';
import { generateSampleVideos, SampleSpec } from '../../devstack/sample-videos';
import { collect, sourcesFromInputs } from '../../sources';
import { runNameOf, runNameOption } from '../command';
import { watchPipelineRun } from '../watch-run';
import { defineFlow, type FlowContext } from './flow';
import { formatBytes, formatTranscodeSummary, readSummaryLines } from './transcode-summary';

/** A 4K source kept tiny (1 s at 5 fps) so the 4K branch of the demo encodes in seconds on a small machine. */
const demo4k: SampleSpec = { source: 'testsrc2', width: 3840, height: 2160, seconds: 1, fps: 5 };

/** Uploads the inputs, runs the flow with a progress line, and returns the summary lines. */
async function transcodeFiles(ctx: FlowContext, inputs: string[], runName: string): Promise<string[]> {
  // `<dataDir>/blobs` on the local backend; the bucket (keys uploads/…, renditions/…) with BATCH_STORAGE=s3.
  const store = blobStoreFor(ctx.dataDir);
  const items = (await Promise.all(sourcesFromInputs(inputs).map(collect))).flat();
  const uploads = await uploadFiles(store, items);
  // One line per upload for a handful; a count for many.
  if (uploads.length <= 20)
    for (const u of uploads) ctx.log(`Uploaded ${u.name} (${formatBytes(u.bytes)}) as ${u.uri}`);
  else ctx.log(`Uploaded ${uploads.length} files into ${store.root}`);
  const handle = await startTranscodeRun(ctx.client, ctx.config, { runName, uploads });
  const webUi = workflowUrl(ctx.config, handle.workflowId);
  ctx.log(`Started ${handle.workflowId} with ${uploads.length} uploads. Web UI: ${webUi}`);
  const result = await watchPipelineRun(handle, ctx.log, { show: ctx.progress });
  const lines = result.results
    ? await readSummaryLines(result.results.dir, result.results.failureGroups)
    : { completed: [], examples: new Map() };
  return formatTranscodeSummary({ result, lines, store, webUi });
}

export const transcodeFlow = defineFlow({
  name: 'transcode',
  description:
    'upload videos and render each to a ladder never above the source (4K/1080p/480p MP4 as reached, source size), GIF preview, poster, manifest',
  declare: (command) =>
    command
      .argument('<videos...>', 'video files or folders of videos')
      .addOption(runNameOption('transcode', 'run name; workflow ID transcode/<name>')),
  options: (parsed) => ({
    inputs: parsed.processedArgs[0] as string[],
    runName: runNameOf(parsed.opts(), 'transcode'),
  }),
  async start({ inputs, runName }, ctx) {
    const lines = await transcodeFiles(ctx, inputs, runName);
    console.log(['', ...lines].join('\n'));
  },
  async demo(ctx, runName) {
    // The thumbnailer's samples (kept when they exist) plus a 4K source and a corrupt upload of our own.
    const samples = await generateSampleVideos(path.join(ctx.dataDir, 'samples'), ctx.log);
    const own = path.join(ctx.dataDir, 'samples', 'transcode');
    const [uhd] = await generateSampleVideos(own, ctx.log, [demo4k]);
    const corrupt = path.join(own, 'corrupt.mp4');
    // An MP4 header followed by junk: ffprobe finds no movie in it, so the upload fails with that reason.
    fs.writeFileSync(corrupt, Buffer.concat([Buffer.from('000000186674797069736f6d', 'hex'), Buffer.alloc(4000, 7)]));
    return transcodeFiles(ctx, [...samples, uhd, corrupt], runName);
  },
});
