/**
 * The thumbnailer's pipeline stages (pipeline `thumbnailer`, src/pipelines/thumbnailer.ts):
 *   extract-frame     a representative frame of the item's video (ffmpeg, video queue)
 *   make-thumbnails   thumbnails of that frame at the run's sizes (sharp, image queue)
 * Outputs per item under the run's folder: `<dataDir>/outputs/thumbnailer/<run>/<itemId>/frame.png`
 * and `thumb-<width>.<ext>`, the same names as the thumbnailer workflow's.
 *
 * Identical inputs in a run are worked on once: a frame is cached under the SHA-256 of the video's
 * bytes, thumbnails under the SHA-256 of the frame's bytes and their sizes (in the run's
 * `.cache/` folder), and an item whose content was seen before in the run gets copies. A batch of
 * re-uploads (the same clip under many names) costs one ffmpeg run, not one per item. Cache
 * entries are written atomically; nothing is shared between runs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { invalidInput } from '../errors';
import { fileExists, writeAtomically } from '../fs/atomic-write';
import { runOutputDir } from '../pipeline/run-outputs';
import { stageActivity } from '../pipeline/stage-activity';
import { extractFrame, itemOutputDir } from './extract-frame';
import { makeThumbnails, validSizes } from './thumbnails';
import { DEFAULT_THUMBNAIL_SIZES, type ExtractedFrame, type ThumbnailFile, type ThumbnailSpec } from './types';

const cacheDir = (outputDir: string) => path.join(outputDir, '.cache');

/** The frame recorded in an item's data after extract-frame. */
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
 * `to` becomes the file at `from`: a hard link (no bytes copied; writers replace files by rename,
 * so linked files never change under each other), or a copy across filesystems. Atomic: linked
 * or copied to a temporary name, then renamed.
 */
async function copyTo(from: string, to: string): Promise<void> {
  await fs.mkdir(path.dirname(to), { recursive: true });
  const tmp = `${path.join(path.dirname(to), `.${path.basename(to)}`)}.${process.pid}.${randomBytes(4).toString('hex')}.link`;
  try {
    await fs.link(from, tmp);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV' && (error as NodeJS.ErrnoException).code !== 'EPERM')
      throw error;
    await writeAtomically(to, (t) => fs.copyFile(from, t));
    return;
  }
  await fs.rename(tmp, to).catch(async (error: unknown) => {
    await fs.rm(tmp, { force: true });
    throw error;
  });
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function videoPathOf(data: Record<string, unknown>, itemId: string): string {
  const file = data.path;
  if (typeof file !== 'string' || file.trim() === '') {
    throw invalidInput(`Item ${itemId} has no "path" of a video file in its data; give each item { "path": "..." }.`, {
      itemId,
    });
  }
  return path.resolve(file);
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

/** extractFrame, or a copy of the frame of the same bytes seen before. */
async function cachedFrame(itemId: string, videoPath: string, outputDir: string): Promise<FrameData> {
  const key = await sha256Of(videoPath, 'Video');
  const png = path.join(cacheDir(outputDir), 'frames', `${key}.png`);
  const own = path.join(itemOutputDir(outputDir, itemId), 'frame.png');
  return cached(
    png,
    async () => {
      const info = await readJson<Omit<FrameData, 'path'>>(`${png}.json`);
      if (!info || !(await fileExists(png))) return undefined;
      await copyTo(png, own);
      return { path: own, ...info };
    },
    async () => {
      const frame: ExtractedFrame = await extractFrame({ itemId, videoPath, outputDir });
      const { atSeconds, width, height } = frame;
      await copyTo(frame.framePath, png);
      await writeAtomically(`${png}.json`, (tmp) => fs.writeFile(tmp, JSON.stringify({ atSeconds, width, height })));
      return { path: frame.framePath, atSeconds, width, height };
    },
  );
}

/** makeThumbnails, or copies of the thumbnails of the same frame at the same sizes. */
async function cachedThumbnails(
  itemId: string,
  framePath: string,
  outputDir: string,
  sizes: ThumbnailSpec[],
): Promise<ThumbnailFile[]> {
  const key = `${await sha256Of(framePath, 'Frame')}-${sizes.map((s) => `${s.width}${s.format}`).join('-')}`;
  const dir = path.join(cacheDir(outputDir), 'thumbnails', key);
  const itemDir = itemOutputDir(outputDir, itemId);
  return cached(
    dir,
    async () => {
      const known = await readJson<ThumbnailFile[]>(path.join(dir, 'thumbnails.json'));
      if (!known) return undefined;
      const present = await Promise.all(known.map((t) => fileExists(path.join(dir, path.basename(t.path)))));
      if (!present.every(Boolean)) return undefined;
      for (const t of known)
        await copyTo(path.join(dir, path.basename(t.path)), path.join(itemDir, path.basename(t.path)));
      return known.map((t) => ({ ...t, path: path.join(itemDir, path.basename(t.path)) }));
    },
    async () => {
      const made = await makeThumbnails({ itemId, framePath, outputDir, sizes });
      for (const t of made) await copyTo(t.path, path.join(dir, path.basename(t.path)));
      await writeAtomically(path.join(dir, 'thumbnails.json'), (tmp) => fs.writeFile(tmp, JSON.stringify(made)));
      return made;
    },
  );
}

/** Stage `extract-frame`: adds `frame: { path, atSeconds, width, height }` to the item's data. */
export const extractFrameStage = stageActivity(async (item, call) => {
  const outputDir = runOutputDir(call.pipeline, call.run);
  const frame = await cachedFrame(item.id, videoPathOf(item.data, item.id), outputDir);
  return { ...item.data, frame };
});

/** Stage `make-thumbnails`: adds `thumbnails: [{ path, width, height, format, bytes }]` (sizes: the item's `sizes` or the defaults). */
export const makeThumbnailsStage = stageActivity(async (item, call) => {
  const frame = item.data.frame as FrameData | undefined;
  if (typeof frame?.path !== 'string') {
    throw invalidInput(`Item ${item.id} has no extracted frame; run the extract-frame stage first.`, {
      itemId: item.id,
    });
  }
  const sizes = validSizes(item.data.sizes ?? DEFAULT_THUMBNAIL_SIZES);
  const outputDir = runOutputDir(call.pipeline, call.run);
  const thumbnails = await cachedThumbnails(item.id, frame.path, outputDir, sizes);
  return { ...item.data, thumbnails };
});
