/**
 * The transcode pipeline's stage activities (src/pipelines/transcode.ts), on the video task queue:
 *
 *   transcode-probe     ffprobe the upload; plan its ladder (never above the source) into the item's data
 *   transcode-render    render the item's ladder, one rendition after another, each written then renamed
 *   transcode-manifest  ffprobe every rendition as written into manifest.json beside them
 *
 * One render call does a whole ladder: a worker killed mid-ladder loses only the rendition it was encoding (the
 * retry — on any host — keeps every published rendition, content-addressed and checked by ffprobe; the dead
 * worker's scratch is removed when a worker starts there again), and uploads still render in parallel across the video workers. Bad input (not a video, corrupt) fails
 * as InvalidInput: the item is dead-lettered with its reason and the run goes on.
 */
import { Context } from '@temporalio/activity';
import type { PipelineItem } from '../../pipelines/spec';
import { BlobStore } from '../../storage/blob-store';
import { withScratch } from '../../storage/scratch';
import { stageActivity } from '../pipeline/stage-activity';
import type { StageActivity } from '../pipeline/types';
import { writeManifestActivity } from './manifest';
import { probeUploadActivity } from './probe-upload';
import { renderToBlob, uploadCopy } from './render';
import { ladderFor, manifestUri, RENDITIONS, renditionUri } from './renditions';
import type { RenditionReport } from './upload-item';
import { ladderOf, renditionsOf, sourceOf, uploadOf } from './upload-item';

/** The stage activity names, as the pipeline spec and the workers know them. */
export const transcodeStageNames = {
  probe: 'transcode-probe',
  render: 'transcode-render',
  manifest: 'transcode-manifest',
} as const;

type TranscodeStageActivityName = (typeof transcodeStageNames)[keyof typeof transcodeStageNames];

export function transcodeStageActivities(
  store: BlobStore = new BlobStore(),
): Record<TranscodeStageActivityName, StageActivity> {
  const probeUpload = probeUploadActivity(store);
  const writeManifest = writeManifestActivity(store);

  const probe = async (item: PipelineItem) => {
    const source = await probeUpload({ upload: uploadOf(item) });
    return { ...item.data, source, ladder: ladderFor(source) };
  };

  // The whole ladder from one scratch copy of the upload; the scratch folder goes when the item is done.
  const render = (item: PipelineItem) =>
    withScratch(async (dir) => {
      const upload = uploadOf(item);
      const source = sourceOf(item);
      const planned = ladderOf(item, source);
      const sourceFile = await uploadCopy(store, upload, dir);
      const renditions: RenditionReport[] = [];
      for (const [index, { rendition, width, height }] of planned.entries()) {
        const spec = RENDITIONS[rendition];
        const outputUri = renditionUri(upload.sha256, rendition);
        const done = await renderToBlob(
          store,
          { upload, source, spec, size: { width, height }, outputUri, faultPoint: index > 0 },
          Context.current(),
          { dir, sourceFile },
        );
        const { uri: _uri, format: _format, ...report } = done;
        renditions.push(report);
      }
      const { ladder: _ladder, ...data } = item.data;
      return { ...data, renditions };
    });

  const manifest = async (item: PipelineItem) => {
    const upload = uploadOf(item);
    const renditions = renditionsOf(item).map(({ rendition }) => ({
      rendition,
      uri: renditionUri(upload.sha256, rendition),
    }));
    const written = await writeManifest({
      upload,
      source: sourceOf(item),
      renditions,
      manifestUri: manifestUri(upload.sha256),
    });
    return { ...item.data, manifestUri: written.uri };
  };

  return {
    [transcodeStageNames.probe]: stageActivity(probe),
    [transcodeStageNames.render]: stageActivity(render),
    [transcodeStageNames.manifest]: stageActivity(manifest),
  };
}
