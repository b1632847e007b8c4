/**
 * Flow `thumbnailer` on the pipeline engine (src/pipelines/thumbnailer.ts): a representative frame
 * of every video (ffmpeg), thumbnails of it (sharp: 320 px JPEG, 640 px WebP) and contact sheets of
 * the run. `npm start` runs it first on its sample videos; this runs it on a person's inputs:
 *
 *   npm run cli -- run thumbnailer <videos...> [--concurrency N] [--run NAME]   (--help: every option)
 *
 * Inputs are video files, folders of videos or .jsonl manifests ({"path": "..."} per line). With
 * BATCH_STORAGE=s3 the files are uploaded first (content-addressed), since workers read the bucket.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startThumbnailerRun, thumbnailerOutputDir } from '../../client/thumbnailer';
import { withLiveProgress } from '../../client/pipeline-run';
import { generateSampleVideos } from '../../devstack/sample-videos';
import { uploadInputs } from '../../devstack/upload-inputs';
import { workflowUrl } from '../../infra/config';
import { collect, sourcesFromInputs } from '../../sources';
import { storage } from '../../storage/storage';
import { runNameOf, runNameOption, wholeNumber } from '../command';
import { watchPipelineRun } from '../watch-run';
import { defineFlow, type FlowContext } from './flow';
import { formatThumbnailerSummary } from './thumbnailer-summary';

export interface ThumbnailerOptions {
  inputs: string[];
  runName: string;
  concurrency: number;
}

/** Starts the run on the inputs, follows it with a progress line, and returns its summary. */
export async function runThumbnailer(ctx: FlowContext, options: ThumbnailerOptions): Promise<string> {
  let items = (await Promise.all(sourcesFromInputs(options.inputs).map(collect))).flat();
  const store = storage();
  if (store.kind === 's3') items = await uploadInputs(items, store, ctx.log);
  const handle = await startThumbnailerRun(ctx.client, ctx.config, {
    runName: options.runName,
    items,
    concurrency: options.concurrency,
  });
  const webUi = workflowUrl(ctx.config, handle.workflowId);
  ctx.log(`Started ${handle.workflowId} with ${items.length} items. Web UI: ${webUi}`);
  const result = await watchPipelineRun(withLiveProgress(ctx.client, handle), ctx.log, {
    everyMs: 2000,
    show: ctx.progress,
  });
  return formatThumbnailerSummary(result, { webUi, outputDir: thumbnailerOutputDir(options.runName) });
}

export const thumbnailerFlow = defineFlow({
  name: 'thumbnailer',
  description: 'a representative frame of every video, 320 px JPEG and 640 px WebP thumbnails, contact sheets',
  declare: (command) =>
    command
      .argument('<videos...>', 'video files, folders of videos, or .jsonl manifests ({"path": "..."} per line)')
      .option('--concurrency <n>', 'activity calls at once per stage and partition', wholeNumber(1), 4)
      .addOption(runNameOption('thumbnails', 'run name; workflow ID thumbnailer/<name>')),
  options: (parsed): ThumbnailerOptions => ({
    inputs: parsed.processedArgs[0] as string[],
    runName: runNameOf(parsed.opts(), 'thumbnails'),
    concurrency: parsed.opts().concurrency as number,
  }),
  async start(options, ctx) {
    ctx.log(await runThumbnailer(ctx, options));
  },
  async demo(ctx, runName) {
    const samples = path.join(ctx.dataDir, 'samples');
    await generateSampleVideos(samples, ctx.log);
    // One file that is not a video shows how bad input is set aside while the run goes on.
    fs.writeFileSync(path.join(samples, 'not-a-video.mp4'), 'this is text, not a video\n');
    return (await runThumbnailer(ctx, { inputs: [samples], runName, concurrency: 4 })).split('\n');
  },
});
