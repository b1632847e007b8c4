/**
 * The transcode pipeline's stage activities (src/pipelines/transcode.ts), on the video task queue:
 *
 *   transcode-probe     ffprobe the upload; plan its ladder (never above the source) into the item's data
 *   transcode-render    render the item's ladder, one rendition after another, each written then renamed
 *   transcode-manifest  ffprobe every rendition as written into manifest.json beside them
 *
 * One render call does a whole ladder: a worker killed mid-ladder loses only the rendition it was encoding (the
 * retry keeps every finished file, content-addressed and checked by ffprobe, and removes the dead worker's
 * temporary), and uploads still render in parallel across the video workers. Bad input (not a video, corrupt) fails
 * as InvalidInput: the item is dead-lettered with its reason and the run goes on.
 */
import { Context } from '@temporalio/activity';
import type { PipelineItem } from '../../pipelines/spec';
import { BlobStore } from '../../runtime/blob-store';
import { stageActivity } from '../pipeline/stage-activity';
import type { StageActivity } from '../pipeline/types';
import { writeManifestActivity } from './manifest';
import { probeUploadActivity } from './probe-upload';
import { renderToBlob } from './render';
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

  const render = async (item: PipelineItem) => {
    const upload = uploadOf(item);
    const source = sourceOf(item);
    const renditions: RenditionReport[] = [];
    for (const { rendition, width, height } of ladderOf(item, source)) {
      const spec = RENDITIONS[rendition];
      const outputUri = renditionUri(upload.sha256, rendition);
      const done = await renderToBlob(
        store,
        { upload, source, spec, size: { width, height }, outputUri },
        Context.current(),
      );
      const { uri: _uri, format: _format, ...report } = done;
      renditions.push(report);
    }
    const { ladder: _ladder, ...data } = item.data;
    return { ...data, renditions };
  };

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
