/**
 * The thumbnailer's pipeline stages (pipeline `thumbnailer`, src/pipelines/thumbnailer.ts):
 *   extract-frame     a representative frame of the item's video (ffmpeg, video queue)
 *   make-thumbnails   thumbnails of that frame at the run's sizes (sharp, image queue)
 * Each stage works in a scratch folder of its own (withScratch, removed after the item): the input
 * — a video URI (`s3://…`, or a local path on the default backend) or the previous stage's frame
 * URI — is copied there, ffmpeg/sharp write there, and the outputs are published once to
 * deterministic keys, `outputs/thumbnailer/<run>/<itemId>/frame.png` and `thumb-<width>.<ext>`
 * (on the local backend the files `<dataDir>/outputs/thumbnailer/<run>/…` as before). Item data
 * carries the outputs' URIs, so the next stage may run on another host.
 *
 * Identical inputs in a run are worked on once: a frame is cached under the SHA-256 of the video's
 * bytes, thumbnails under the SHA-256 of the frame's bytes and their sizes (keys under the run's
 * `.cache/`), and an item whose content was seen before in the run gets copies. A batch of
 * re-uploads (the same clip under many names) costs one ffmpeg run, not one per item. The cache is
 * also how a retry on another host finds an earlier attempt's work. Nothing is shared between runs.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { ObjectMissingError, StorageUriError } from '../../storage/object-store';
import { withScratch } from '../../storage/scratch';
import { localCopyOf, publishFile } from '../../storage/stage-files';
import { storage } from '../../storage/storage';
import { invalidInput } from '../errors';
import { stageActivity } from '../pipeline/stage-activity';
import type { StageCall } from '../pipeline/types';
import { extractFrame, itemOutputDir } from '../media/extract-frame';
import { copyStored, readStoredJson, runOutputKey } from '../media/stored-media';
import { makeThumbnails, validSizes } from './thumbnails';
import { DEFAULT_THUMBNAIL_SIZES, type ExtractedFrame, type ThumbnailFile, type ThumbnailSpec } from './types';

/** The frame recorded in an item's data after extract-frame; `path` is the frame's URI. */
export interface FrameData {
  path: string;
  atSeconds: number;
  width: number;
  height: number;
}

async function sha256Of(file: string, what: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
      throw invalidInput(`${what} ${file} does not exist; check the path or remove it from the batch.`, { path: file });
    }
    throw error;
  }
  return hash.digest('hex');
}

/**
 * A local file of `uri` in the scratch folder (the file itself for a local path). A missing object
 * or an `s3://` URI on a worker without S3 settings is bad input: retrying cannot make it appear.
 */
async function scratchCopy(uri: string, scratch: string, what: string): Promise<string> {
  try {
    return await localCopyOf(uri, scratch);
  } catch (error) {
    if (error instanceof ObjectMissingError) {
      throw invalidInput(`${what} ${uri} does not exist in the store; upload it or remove it from the batch.`, { uri });
    }
    if (error instanceof StorageUriError) throw invalidInput(`${what} ${uri}: ${error.message}`, { uri });
    throw error;
  }
}

/** A bad-input failure that names the scratch copy names the URI instead (messages are grouped and shown). */
function aboutUri(error: unknown, file: string, uri: string): unknown {
  if (file === uri || !(error instanceof ApplicationFailure) || !error.message.includes(file)) return error;
  return ApplicationFailure.create({
    message: error.message.split(file).join(uri),
    type: error.type ?? undefined,
    nonRetryable: error.nonRetryable ?? undefined,
    details: error.details as unknown[] | undefined,
  });
}

function videoUriOf(data: Record<string, unknown>, itemId: string): string {
  const file = data.path;
  if (typeof file !== 'string' || file.trim() === '') {
    throw invalidInput(
      `Item ${itemId} has no "path" of a video file in its data; give each item { "path": "..." } (a file or an s3:// URI).`,
      { itemId },
    );
  }
  return file.startsWith('s3://') ? file : path.resolve(file);
}

/** Work on a cache key going on in this process: a caller of the same key waits for it, then looks again. */
const inFlight = new Map<string, Promise<unknown>>();

/**
 * The cached value (`lookup`), or `make` it: once per key at a time in this process, so a batch
 * full of the same file makes it once while the others wait and then take the copy. A failed
 * `make` is not cached: each caller then tries for itself (and gets its own error).
 */
async function cached<T>(key: string, lookup: () => Promise<T | undefined>, make: () => Promise<T>): Promise<T> {
  const hit = await lookup();
  if (hit !== undefined) return hit;
  const running = inFlight.get(key);
  if (running) {
    await running.catch(() => undefined);
    const after = await lookup();
    if (after !== undefined) return after;
  }
  const made = make();
  inFlight.set(key, made);
  try {
    return await made;
  } finally {
    if (inFlight.get(key) === made) inFlight.delete(key);
  }
}

/** extractFrame in scratch, published; or a copy of the frame of the same bytes seen before in the run. */
async function cachedFrame(call: StageCall, itemId: string, video: string, scratch: string): Promise<FrameData> {
  const sha = await sha256Of(video, 'Video');
  const png = runOutputKey(call.pipeline, call.run, '.cache', 'frames', `${sha}.png`);
  const own = runOutputKey(call.pipeline, call.run, itemOutputName(itemId), 'frame.png');
  return cached(
    `${call.pipeline}/${call.run}/${png}`,
    async () => {
      const info = await readStoredJson<Omit<FrameData, 'path'>>(`${png}.json`);
      if (!info || !(await storage().head(png))) return undefined;
      const copy = await copyStored(png, own, scratch);
      return { path: copy.uri, ...info };
    },
    async () => {
      const frame: ExtractedFrame = await extractFrame({ itemId, videoPath: video, outputDir: scratch });
      const { atSeconds, width, height } = frame;
      const published = await publishFile(frame.framePath, own);
      // The cache entry's JSON last: its presence means the frame beside it is whole.
      await publishFile(frame.framePath, png);
      await storage().putBytes(`${png}.json`, JSON.stringify({ atSeconds, width, height }), { ifAbsent: true });
      return { path: published.uri, atSeconds, width, height };
    },
  );
}

/** The item's folder name, checked (no slashes, not "." or ".."): the same rule as the local layout's. */
const itemOutputName = (itemId: string) => path.basename(itemOutputDir('/', itemId));

/** makeThumbnails in scratch, published; or copies of the thumbnails of the same frame at the same sizes. */
async function cachedThumbnails(
  call: StageCall,
  itemId: string,
  frame: string,
  sizes: ThumbnailSpec[],
  scratch: string,
): Promise<ThumbnailFile[]> {
  const key = `${await sha256Of(frame, 'Frame')}-${sizes.map((s) => `${s.width}${s.format}`).join('-')}`;
  const dir = runOutputKey(call.pipeline, call.run, '.cache', 'thumbnails', key);
  const itemKey = (name: string) => runOutputKey(call.pipeline, call.run, itemOutputName(itemId), name);
  return cached(
    `${call.pipeline}/${call.run}/${dir}`,
    async () => {
      const known = await readStoredJson<(Omit<ThumbnailFile, 'path'> & { name: string })[]>(`${dir}/thumbnails.json`);
      if (!known) return undefined;
      const present = await Promise.all(known.map((t) => storage().head(`${dir}/${t.name}`)));
      if (!present.every(Boolean)) return undefined;
      const copies: ThumbnailFile[] = [];
      for (const { name, ...t } of known) {
        const copy = await copyStored(`${dir}/${name}`, itemKey(name), scratch);
        copies.push({ ...t, path: copy.uri, bytes: copy.bytes });
      }
      return copies;
    },
    async () => {
      const made = await makeThumbnails({ itemId, framePath: frame, outputDir: path.join(scratch, 'out'), sizes });
      const published: ThumbnailFile[] = [];
      const entries: (Omit<ThumbnailFile, 'path'> & { name: string })[] = [];
      for (const t of made) {
        const name = path.basename(t.path);
        const put = await publishFile(t.path, itemKey(name));
        await publishFile(t.path, `${dir}/${name}`);
        published.push({ ...t, path: put.uri, bytes: put.bytes });
        entries.push({ name, width: t.width, height: t.height, format: t.format, bytes: t.bytes });
      }
      await storage().putBytes(`${dir}/thumbnails.json`, JSON.stringify(entries), { ifAbsent: true });
      return published;
    },
  );
}

/** Stage `extract-frame`: adds `frame: { path (URI), atSeconds, width, height }` to the item's data. */
export const extractFrameStage = stageActivity((item, call) =>
  withScratch(async (scratch) => {
    const uri = videoUriOf(item.data, item.id);
    const video = await scratchCopy(uri, scratch, 'Video');
    try {
      const frame = await cachedFrame(call, item.id, video, scratch);
      return { ...item.data, frame };
    } catch (error) {
      throw aboutUri(error, video, uri);
    }
  }),
);

/** Stage `make-thumbnails`: adds `thumbnails: [{ path (URI), width, height, format, bytes }]` (sizes: the item's `sizes` or the defaults). */
export const makeThumbnailsStage = stageActivity((item, call) =>
  withScratch(async (scratch) => {
    const frame = item.data.frame as FrameData | undefined;
    if (typeof frame?.path !== 'string') {
      throw invalidInput(`Item ${item.id} has no extracted frame; run the extract-frame stage first.`, {
        itemId: item.id,
      });
    }
    const sizes = validSizes(item.data.sizes ?? DEFAULT_THUMBNAIL_SIZES);
    const local = await scratchCopy(frame.path, scratch, 'Frame');
    try {
      const thumbnails = await cachedThumbnails(call, item.id, local, sizes, scratch);
      return { ...item.data, thumbnails };
    } catch (error) {
      throw aboutUri(error, local, frame.path);
    } finally {
      await fs.rm(path.join(scratch, 'out'), { recursive: true, force: true });
    }
  }),
);
