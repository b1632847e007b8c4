/**
 * An upload as a pipeline item of the transcode pipeline, and the checks that item data must pass at each stage.
 * Item data is small JSON (the upload's blob URI and facts, later the probe and the ladder), never media. Data that
 * is not what a stage needs (a hand-made item, a redrive into the wrong stage) is bad input, never retried.
 */
import type { PipelineItem } from '../../pipelines/spec';
import { invalidInput } from '../errors';
import { ladderFor, RENDITIONS, type PlannedRendition } from './renditions';
import type { RenderedRendition, SourceVideo, Upload } from './types';

/** What the transcode pipeline's items carry when a run starts: the upload without its ID (the item's ID). */
export type UploadData = Omit<Upload, 'id'>;

/** A rendition as the render stage reports it in item data (its URI follows from the upload's hash). */
export type RenditionReport = Omit<RenderedRendition, 'uri' | 'format'>;

/** The item of an upload: ID-safe upload ID, the rest as data. */
export function uploadItem(upload: Upload): PipelineItem {
  const { id, ...data } = upload;
  return { id, data: { ...data } };
}

function bad(item: PipelineItem, problem: string): never {
  throw invalidInput(
    `Item "${item.id}" is not a transcode upload: ${problem}. Transcode runs take uploads made by \`npm run cli -- run transcode <files>\` (data {name, uri, sha256, bytes}).`,
    { itemId: item.id },
  );
}

/** The upload an item describes, checked field by field. */
export function uploadOf(item: PipelineItem): Upload {
  const { name, uri, sha256, bytes } = item.data;
  if (typeof name !== 'string' || name === '') bad(item, 'data.name must be the file name');
  if (typeof uri !== 'string' || !uri.startsWith('blob://uploads/'))
    bad(item, 'data.uri must be a blob://uploads/… URI');
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) bad(item, 'data.sha256 must be 64 hex digits');
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) bad(item, 'data.bytes must be a size');
  // Renditions go under the hash: it must be the hash the upload is stored under, never another upload's.
  if (
    !/^blob:\/\/uploads\/([0-9a-f]{64})(\.[A-Za-z0-9]{1,10})?$/.test(uri) ||
    !uri.startsWith(`blob://uploads/${sha256}`)
  ) {
    bad(item, 'data.uri must be blob://uploads/<data.sha256>.<ext>');
  }
  return { id: item.id, name, uri, sha256, bytes };
}

/** The probe's reading, which the probe stage put into the item's data. */
export function sourceOf(item: PipelineItem): SourceVideo {
  const s = item.data.source as Partial<SourceVideo> | undefined;
  const whole = (n: unknown, min: number) => Number.isInteger(n) && (n as number) >= min;
  const finite = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  const valid =
    !!s &&
    typeof s === 'object' &&
    typeof s.codec === 'string' &&
    whole(s.width, 1) &&
    whole(s.height, 1) &&
    whole(s.streamIndex, 0) &&
    finite(s.durationSeconds) &&
    finite(s.frameRate);
  if (!valid) bad(item, 'data.source (the probe of the upload) is missing or not whole; enter the pipeline at "probe"');
  return s as SourceVideo;
}

/**
 * The ladder the probe stage planned, which must be the ladder of the item's source: render never takes sizes
 * from item data alone (a ladder above the source, or one of 100,000 pixels, is refused).
 */
export function ladderOf(item: PipelineItem, source: SourceVideo): PlannedRendition[] {
  const planned = ladderFor(source);
  if (JSON.stringify(item.data.ladder) !== JSON.stringify(planned)) {
    bad(
      item,
      `data.ladder is not the ladder of its source ${source.width}x${source.height}; enter the pipeline at "probe"`,
    );
  }
  return planned;
}

/** The renditions the render stage reported. */
export function renditionsOf(item: PipelineItem): RenditionReport[] {
  const renditions = item.data.renditions;
  const valid =
    Array.isArray(renditions) &&
    renditions.every(
      (r: Partial<RenditionReport>) => typeof r?.rendition === 'string' && Object.hasOwn(RENDITIONS, r.rendition),
    );
  if (!valid) bad(item, 'data.renditions is missing or invalid; enter the pipeline at "render"');
  return renditions as RenditionReport[];
}
