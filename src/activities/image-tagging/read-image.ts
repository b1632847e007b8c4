/**
 * Reading an image a pipeline item points at, refusing what must not be decoded: sharp's
 * `limitInputPixels` rejects images with more pixels than {@link maxImagePixels} from their header,
 * before any pixel is decoded, so a decompression bomb (a tiny file that would inflate to
 * gigabytes) or an oversized scan never reaches memory. Both, and files that are not readable
 * images, are bad input: non-retryable, so the item is dead-lettered at once with the reason.
 */
import sharp from 'sharp';
import type { ApplicationFailure } from '@temporalio/common';
import type { PipelineItem } from '../../pipelines/spec';
import fs from 'node:fs/promises';
import { ObjectMissingError, StorageUriError } from '../../storage/object-store';
import { withScratch } from '../../storage/scratch';
import { localCopyOf } from '../../storage/stage-files';
import { storeHolding } from '../../storage/storage';
import { threadpoolSize } from '../../infra/config';
import { invalidInput } from '../errors';
import type { StageActivityOptions } from '../pipeline/stage-activity';
import { readInputFile } from '../fs/read-input';

/** Most pixels an image may have (100 megapixels: more than any camera photo, far less than a bomb). */
export const maxImagePixels = 100_000_000;

/**
 * Both image stages work on a batch's images side by side, as many as libuv has threads (sharp's
 * work runs there): the last batches of a run then keep every core busy, not one.
 */
export const imageStageOptions: StageActivityOptions = { itemsAtOnce: threadpoolSize() };

/** Options of every decode: the pixel limit, and failing on decoder warnings (truncated or damaged data). */
export const decodeOptions: sharp.SharpOptions = { limitInputPixels: maxImagePixels, failOn: 'warning' };

export interface ImageFile {
  path: string;
  /** The whole file: sharp reads buffers, since libvips caches file inputs by name and could serve stale pixels. */
  data: Buffer;
  metadata: sharp.Metadata;
}

/**
 * Where the item's image is: its `uri` (an object in the store, e.g. from an item reader's
 * listing) or its `path` (a file on this host, or any URI); bad input when it has neither.
 */
export function imagePathOf(item: PipelineItem): string {
  const file = typeof item.data.uri === 'string' && item.data.uri.trim() !== '' ? item.data.uri : item.data.path;
  if (typeof file !== 'string' || file.trim() === '') {
    throw invalidInput(
      `Item ${item.id} has no "path" or "uri" of an image in its data; give each item { "path": "..." } or { "uri": "s3://..." }.`,
      {
        itemId: item.id,
      },
    );
  }
  return file;
}

/**
 * The image's bytes: read from this host's file, or — for an `s3://` URI — downloaded into a
 * scratch folder that is removed once read (the bytes stay in memory for sharp).
 */
async function imageBytes(file: string): Promise<Buffer> {
  const missing = () =>
    invalidInput(`Image ${file} does not exist; check the path or remove it from the batch.`, {
      path: file,
      reason: 'missing',
    });
  try {
    // A file on this host is read where it is: no scratch folder to make and remove.
    if (storeHolding(file)?.kind !== 's3') return await readInputFile(file, missing);
    return await withScratch(async (scratch) => readInputFile(await localCopyOf(file, scratch), missing));
  } catch (err) {
    if (err instanceof ObjectMissingError) throw missing();
    if (err instanceof StorageUriError) throw invalidInput(`Image ${file}: ${err.message}`, { path: file });
    throw err;
  }
}

/** Reads the file and its header; missing, unreadable or over-limit images fail as bad input. */
export async function readImageFile(file: string): Promise<ImageFile> {
  const seen = await recentlyRead(file);
  if (seen) return seen;
  const data = await imageBytes(file);
  const metadata = await decoding({ path: file, data }, () => sharp(data, decodeOptions).metadata());
  const image = { path: file, data, metadata };
  await remember(image);
  return image;
}

/**
 * Images this process read lately, by local path, with the file's identity when read: the
 * thumbnail stage follows tagging item by item, usually in the same worker, and reuses the bytes
 * and header instead of reading and parsing the file again. A file changed since (size, mtime,
 * inode) is read anew. Objects in S3 are not kept: checking one would cost a request anyway.
 */
const recent = new Map<string, { image: ImageFile; identity: string }>();
/** Enough for the items in flight on a worker (activity slots × batch size), bounded in bytes too. */
const maxRecent = 64;
const maxRecentBytes = 64 * 2 ** 20;
let recentBytes = 0;

async function fileIdentity(file: string): Promise<{ key: string; size: number } | undefined> {
  if (storeHolding(file)?.kind === 's3') return undefined;
  const stat = await fs.stat(file).catch(() => undefined);
  return stat?.isFile() ? { key: `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}`, size: stat.size } : undefined;
}

async function recentlyRead(file: string): Promise<ImageFile | undefined> {
  const kept = recent.get(file);
  if (!kept) return undefined;
  if ((await fileIdentity(file))?.key === kept.identity) return kept.image;
  forget(file);
  return undefined;
}

async function remember(image: ImageFile): Promise<void> {
  if (image.data.length > maxRecentBytes / 4) return;
  // Taken after reading: a file whose size no longer matches what was read is not kept.
  const identity = await fileIdentity(image.path);
  if (identity === undefined || identity.size !== image.data.length) return;
  forget(image.path);
  recent.set(image.path, { image, identity: identity.key });
  recentBytes += image.data.length;
  while (recent.size > maxRecent || recentBytes > maxRecentBytes) forget(recent.keys().next().value!);
}

function forget(file: string): void {
  const kept = recent.get(file);
  if (!kept) return;
  recent.delete(file);
  recentBytes -= kept.image.data.length;
}

/**
 * Runs a sharp decode of `image`, turning its failure into bad input: the bytes are in memory,
 * so a failure here is about the bytes (damaged data, unsupported format, over the pixel limit)
 * and retrying cannot help. Writing files is done outside, where I/O errors stay retryable.
 */
export async function decoding<T>(image: Pick<ImageFile, 'path' | 'data'>, decode: () => Promise<T>): Promise<T> {
  try {
    return await decode();
  } catch (err) {
    throw await refusal(image, err);
  }
}

async function refusal(image: Pick<ImageFile, 'path' | 'data'>, err: unknown): Promise<ApplicationFailure> {
  const reason = err instanceof Error ? err.message : String(err);
  if (/exceeds pixel limit/i.test(reason)) {
    // Reading the header alone is safe without the limit: nothing is decoded.
    const { width = 0, height = 0 } = await sharp(image.data, { limitInputPixels: false })
      .metadata()
      .catch(() => ({ width: 0, height: 0 }));
    const size = width && height ? `${width}×${height} (${megapixels(width * height)})` : 'larger than the limit';
    return invalidInput(
      `Image ${image.path} is ${size}, over the limit of ${megapixels(maxImagePixels)}: refused without decoding it ` +
        `(a decompression bomb or an oversized image). Shrink it below the limit or remove it from the batch.`,
      { path: image.path, reason: 'pixel-limit', width, height, limit: maxImagePixels },
    );
  }
  // libvips sometimes reports a decoder warning only by this generic text: say what it means.
  const why = /warning treated as error/i.test(reason) ? 'damaged or truncated data' : reason;
  return invalidInput(
    `Image ${image.path} is not a readable image (${why}); replace it with a valid file or remove it from the batch.`,
    { path: image.path, reason },
  );
}

function megapixels(pixels: number): string {
  return `${Math.round(pixels / 1e6).toLocaleString('en-US')} megapixels`;
}
