/**
 * Flow `image-tagging` (pipelines/examples/image-tagging.yaml): every image is tagged by sharp
 * (size class, orientation, dominant colour, brightness, transparency, format); the images with one
 * chosen tag get a thumbnail as soon as they are tagged, and every tagged image is counted in a
 * report (count, bytes, pixels, histogram of tags → report.json and histogram.svg) written once the
 * run is done. Corrupt files and decompression bombs are dead-lettered with their reason.
 *
 *   npm run cli -- run image-tagging <folder|image files...|s3://bucket/prefix/> [--tag T] [--run NAME]   (--help: every option)
 *
 * An `s3://` prefix (or a .jsonl/.csv object of items with a `uri` each) is read by the item reader
 * in pages, on the workers. Outputs under `outputs/image-tagging/<run>/` in the object store (under
 * `<dataDir>` on the local backend): `tag-report/` and `thumbnails/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { imageTagVocabulary } from '../../activities/image-tagging/image-tags';
import { runOutputKey } from '../../activities/pipeline/run-outputs';
import { startPipelineRun, withLiveProgress } from '../../client/pipeline-run';
import { didYouMean } from '../../pipelines/did-you-mean';
import { loadPipelineSpecFile } from '../../pipelines/load';
import type { PipelineItem, PipelineSpec } from '../../pipelines/spec';
import { workflowUrl } from '../../infra/config';
import { repoRoot } from '../../infra/paths';
import { generateSampleImages } from '../../devstack/sample-images';
import { collect, sourcesFromInputs } from '../../sources';
import { isObjectUri, itemReaderOf } from '../../sources/item-reader';
import { withScratch } from '../../storage/scratch';
import { localCopyOf } from '../../storage/stage-files';
import { storage } from '../../storage/storage';
import type { ItemSource } from '../../workflows/pipeline';
import type { PipelineRunResult } from '../../workflows/pipeline';
import { CliCommand, runNameOf, runNameOption } from '../command';
import { watchPipelineRun } from '../watch-run';
import { defineFlow, type FlowContext } from './flow';
import { formatImageTaggingSummary, type ThumbnailListing } from './image-tagging-summary';

const specFile = path.join(repoRoot, 'pipelines', 'examples', 'image-tagging.yaml');
/** Stages of the spec the flow reads or changes. */
const stages = { chosenTag: 'with-tag', report: 'tag-report', thumbnail: 'thumbnail' } as const;
export const defaultTag = 'landscape';
/** How often the CLI shows the run's progress. */
const progressEveryMs = 2000;

export interface ImageTaggingOptions {
  inputs: string[];
  tag: string;
  runName: string;
}

/** What a person gets told when no images are given (the argument is optional: --items can name them). */
const passImages =
  'Pass a folder of images or image files, or one s3://bucket/prefix/ (or --items s3://…). See: npm run cli -- run image-tagging --help';

/** The options from the parsed command: the images (arguments and --items), a tag images get, the run name. */
function imageTaggingOptions(parsed: CliCommand): ImageTaggingOptions {
  const opts = parsed.opts<{ tag: string; items: string[]; run?: string }>();
  const inputs = [...(parsed.processedArgs[0] as string[]), ...opts.items];
  if (inputs.length === 0) throw new Error(passImages);
  if (!imageTagVocabulary.includes(opts.tag)) {
    throw new Error(
      `--tag ${JSON.stringify(opts.tag)} is not a tag images get${didYouMean(opts.tag, imageTagVocabulary)} Tags are: ${imageTagVocabulary.join(', ')}.`,
    );
  }
  return { inputs, tag: opts.tag, runName: runNameOf(opts, 'run') };
}

/** The example spec with `tag` as the value its chosen-tag split routes to the thumbnails on. */
export function imageTaggingSpec(tag: string): PipelineSpec {
  const spec = loadPipelineSpecFile(specFile);
  const split = spec.stages[stages.chosenTag];
  const route = split?.kind === 'split' ? split.routes.find((r) => r.to === stages.thumbnail) : undefined;
  const when = route?.when;
  if (split?.kind !== 'split' || !route || !when || !('op' in when) || when.op !== 'has') {
    throw new Error(
      `${specFile} has no split stage "${stages.chosenTag}" with a "has" route to "${stages.thumbnail}" for the --tag option; restore the file.`,
    );
  }
  const chosen = { ...when, value: tag };
  const routes = split.routes.map((r) => (r === route ? { ...r, when: chosen } : r));
  return { ...spec, stages: { ...spec.stages, [stages.chosenTag]: { ...split, routes } } };
}

/**
 * The run's items: an `s3://` URI is read by the item reader on the workers (one item per object
 * of a prefix, or per line/row of a .jsonl/.csv object); files and folders here become one item
 * per image file, carrying only its path.
 */
async function imageSource(inputs: string[]): Promise<{ source: ItemSource; what: string }> {
  const uris = inputs.filter(isObjectUri);
  if (uris.length > 0) {
    if (inputs.length > 1)
      throw new Error(
        'Pass one s3:// URI of images, or files and folders here, not both. See: npm run cli -- run image-tagging --help',
      );
    return { source: { reader: itemReaderOf(uris[0]) }, what: uris[0] };
  }
  const items = await imageItems(inputs);
  return { source: { items }, what: `${items.length} files` };
}

/** One item per image file (folders: every file in them), carrying only its path. */
async function imageItems(inputs: string[]): Promise<PipelineItem[]> {
  for (const input of inputs) {
    if (!fs.existsSync(input)) throw new Error(`${input} does not exist; pass image files or folders of images.`);
  }
  const found = (await Promise.all(sourcesFromInputs(inputs).map(collect))).flat();
  if (found.length === 0) throw new Error(`No files in ${inputs.join(', ')}; pass image files or folders of images.`);
  return found.map(({ id, payload }) => ({ id, data: { path: payload.path } }));
}

/** The run's thumbnails in the store: how many, and the first few with their sizes as written. */
async function listThumbnails(prefix: string, first = 20): Promise<{ count: number; listed: ThumbnailListing[] }> {
  const store = storage();
  const objects = [];
  let count = 0;
  let after: string | undefined;
  do {
    const page = await store.list(`${prefix}/`, { after, limit: 1000 });
    count += page.objects.length;
    if (objects.length < first) objects.push(...page.objects.slice(0, first - objects.length));
    after = page.next;
  } while (after !== undefined);
  const listed = await Promise.all(
    objects.map((o) =>
      // A local file is read where it is; an object in S3 is fetched into scratch for its size.
      withScratch(async (scratch) => {
        const { width = 0, height = 0 } = await sharp(await localCopyOf(o.uri, scratch)).metadata();
        return { file: o.uri, width, height };
      }),
    ),
  );
  return { count, listed };
}

export interface ImageTaggingRun {
  result: PipelineRunResult;
  thumbnails: ThumbnailListing[];
  /** What a person reads: counts, sums, histogram, report files, thumbnails, dead letters. */
  summary: string[];
}

/** Runs the flow with a progress bar, waits for it and lists what it made (`spec`: the example's, with the tag). */
export async function runImageTagging(
  ctx: FlowContext,
  options: ImageTaggingOptions,
  spec: PipelineSpec = imageTaggingSpec(options.tag),
): Promise<ImageTaggingRun> {
  const { source, what } = await imageSource(options.inputs);
  const handle = await startPipelineRun(ctx.client, ctx.config, spec, source, { runName: options.runName });
  const webUi = workflowUrl(ctx.config, handle.workflowId);
  ctx.log(`Started ${handle.workflowId}: ${what}, thumbnails for tag "${options.tag}". Web UI: ${webUi}`);
  // Every 2 s: each look asks the run and every running partition (a query each, answered by a
  // worker), which a person watching a bar does not need every second.
  const result = await watchPipelineRun(withLiveProgress(ctx.client, handle), ctx.log, {
    everyMs: progressEveryMs,
    show: ctx.progress,
  });
  const thumbnailKey = runOutputKey(spec.name, options.runName, 'thumbnails');
  const thumbnailDir = storage().uriOf(thumbnailKey);
  const { count: thumbnailCount, listed: thumbnails } = await listThumbnails(thumbnailKey);
  const summary = formatImageTaggingSummary({
    result,
    tag: options.tag,
    reportStage: stages.report,
    thumbnailStage: stages.thumbnail,
    thumbnailDir,
    thumbnails,
    thumbnailCount,
    webUi,
  });
  return { result, thumbnails, summary };
}

export const imageTaggingFlow = defineFlow({
  name: 'image-tagging',
  description: `tag images with sharp, report a histogram of tags (JSON + SVG), thumbnail those with a chosen tag (default ${defaultTag})`,
  declare: (command) =>
    command
      .argument(
        '[images...]',
        'a folder of images, image files, or one s3://bucket/prefix/ (or .jsonl/.csv object of items)',
      )
      .option('--tag <tag>', `the tag whose images get thumbnails: ${imageTagVocabulary.join(', ')}`, defaultTag)
      .option(
        '--items <uri>',
        'images to read from the object store (an s3:// URI), as the argument does',
        (uri: string, previous: string[]) => [...previous, uri],
        [],
      )
      .addOption(runNameOption('run', 'run name; workflow ID image-tagging/<name>')),
  options: imageTaggingOptions,
  async start(options, ctx) {
    const { summary } = await runImageTagging(ctx, options);
    for (const line of summary) ctx.log(line);
  },
  async demo(ctx, runName) {
    const dir = path.join(ctx.dataDir, 'samples', 'images');
    await generateSampleImages(dir, ctx.log);
    return (await runImageTagging(ctx, { inputs: [dir], tag: defaultTag, runName })).summary;
  },
});

/** The options of `run image-tagging <words...>`; a usage mistake is thrown. */
export const parseImageTaggingArgs = (args: string[]): ImageTaggingOptions => imageTaggingFlow.parse(args);
