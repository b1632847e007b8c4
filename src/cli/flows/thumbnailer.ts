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
import type { WorkflowHandle } from '@temporalio/client';
import { startThumbnailerRun, thumbnailerOutputDir, type VideoPayload } from '../../client/thumbnailer';
import type { WorkItem } from '../../core/work-item';
import type { pipelineRun } from '../../workflows/pipeline';
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

/** The items of `inputs` (files, folders, manifests); uploaded first when the store is S3, since workers read the bucket. */
export async function thumbnailerItems(
  inputs: string[],
  log: (line: string) => void,
): Promise<WorkItem<VideoPayload>[]> {
  const items = (await Promise.all(sourcesFromInputs(inputs).map(collect))).flat();
  const store = storage();
  return store.kind === 's3' ? uploadInputs(items, store, log) : items;
}

/** Follows a started run with a progress line (each look every 2 s) and returns its summary. */
export async function followThumbnailer(
  ctx: FlowContext,
  handle: WorkflowHandle<typeof pipelineRun>,
  runName: string,
  webUi: string,
): Promise<string> {
  const result = await watchPipelineRun(withLiveProgress(ctx.client, handle), ctx.log, {
    everyMs: 2000,
    show: ctx.progress,
  });
  return formatThumbnailerSummary(result, { webUi, outputDir: thumbnailerOutputDir(runName) });
}

/** Starts the run on the inputs, follows it with a progress line, and returns its summary. */
export async function runThumbnailer(ctx: FlowContext, options: ThumbnailerOptions): Promise<string> {
  const items = await thumbnailerItems(options.inputs, ctx.log);
  const handle = await startThumbnailerRun(ctx.client, ctx.config, {
    runName: options.runName,
    items,
    concurrency: options.concurrency,
  });
  const webUi = workflowUrl(ctx.config, handle.workflowId);
  ctx.log(`Started ${handle.workflowId} with ${items.length} items. Web UI: ${webUi}`);
  return followThumbnailer(ctx, handle, options.runName, webUi);
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
