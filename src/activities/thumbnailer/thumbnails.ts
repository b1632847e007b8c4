import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import sharp from 'sharp';
import { invalidInput } from '../errors';
import { readInputFile } from '../fs/read-input';
import { writeAtomically } from '../../infra/atomic-write';
import { itemOutputDir } from '../media/extract-frame';
import type { MakeThumbnailsInput, ThumbnailFile, ThumbnailSpec } from './types';

const extensions: Record<ThumbnailSpec['format'], string> = { jpeg: 'jpg', webp: 'webp', png: 'png' };
const maxThumbnailWidth = 8192;

/** Deterministic path of one thumbnail: `<outputDir>/<itemId>/thumb-<width>.<jpg|webp|png>`. */
export function thumbnailPath(outputDir: string, itemId: string, spec: ThumbnailSpec): string {
  return path.join(itemOutputDir(outputDir, itemId), `thumb-${spec.width}.${extensions[spec.format]}`);
}

/** The sizes, deduplicated; bad ones fail as bad input. */
export function validSizes(sizes: unknown): ThumbnailSpec[] {
  if (!Array.isArray(sizes) || sizes.length === 0) {
    throw invalidInput(
      'No thumbnail sizes were given; pass at least one { width, format } (see DEFAULT_THUMBNAIL_SIZES).',
      {
        sizes,
      },
    );
  }
  const unique = new Map<string, ThumbnailSpec>();
  for (const spec of sizes as ThumbnailSpec[]) {
    const width = spec?.width;
    const format = spec?.format;
    if (!Number.isInteger(width) || width < 1 || width > maxThumbnailWidth) {
      throw invalidInput(
        `Thumbnail width ${JSON.stringify(width)} is invalid; use a whole number from 1 to ${maxThumbnailWidth}.`,
        {
          spec,
        },
      );
    }
    if (!Object.prototype.hasOwnProperty.call(extensions, format)) {
      throw invalidInput(`Thumbnail format ${JSON.stringify(format)} is not supported; use "jpeg", "webp" or "png".`, {
        spec,
      });
    }
    unique.set(`${width}/${format}`, { width, format });
  }
  return [...unique.values()];
}

/** The whole file, failing non-retryably when it is missing or not a decodable image. */
async function readImage(file: string, what: string): Promise<Buffer> {
  const data = await readInputFile(file, () =>
    invalidInput(`${what} ${file} does not exist; produce it first (or fix the path).`, {
      path: file,
      reason: 'missing',
    }),
  );
  try {
    await sharp(data).metadata();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw invalidInput(`${what} ${file} is not a readable image (${reason}); produce it again or remove the item.`, {
      path: file,
      reason,
    });
  }
  return data;
}

function encoder(image: sharp.Sharp, format: ThumbnailSpec['format']): sharp.Sharp {
  switch (format) {
    case 'jpeg':
      return image.flatten({ background: '#000000' }).jpeg({ quality: 82, mozjpeg: true });
    case 'webp':
      return image.webp({ quality: 80 });
    case 'png':
      return image.png({ compressionLevel: 9 });
  }
}

/**
 * Activity: resizes an extracted frame to each requested width (height follows the aspect ratio; smaller frames
 * are enlarged so every item gets the same widths) and writes `<outputDir>/<itemId>/thumb-<width>.<ext>`
 * atomically. Deterministic and safe to retry: every attempt rewrites the same paths. Returns what was read back
 * from the written files. A missing or unreadable frame, or bad sizes, fail non-retryably.
 */
export async function makeThumbnails(input: MakeThumbnailsInput): Promise<ThumbnailFile[]> {
  const ctx = Context.current();
  const sizes = validSizes(input.sizes);
  itemOutputDir(input.outputDir, input.itemId);
  if (typeof input.framePath !== 'string' || input.framePath.trim() === '') {
    throw invalidInput('No frame path was given; pass the framePath returned by extractFrame.', {
      itemId: input.itemId,
    });
  }
  // A Buffer, not a path: libvips caches file inputs by name and could serve a replaced frame's old pixels.
  const frame = await readImage(path.resolve(input.framePath), 'Frame');
  const results: ThumbnailFile[] = [];
  for (const spec of sizes) {
    ctx.cancellationSignal.throwIfAborted();
    ctx.heartbeat({ itemId: input.itemId, stage: 'thumbnail', width: spec.width, format: spec.format });
    const out = thumbnailPath(input.outputDir, input.itemId, spec);
    await writeAtomically(out, async (tmp) => {
      await encoder(sharp(frame).resize({ width: spec.width }), spec.format).toFile(tmp);
    });
    const written = await fs.readFile(out);
    const meta = await sharp(written).metadata();
    if (meta.format !== spec.format || !meta.width || !meta.height) {
      throw new Error(
        `Wrote ${out} but read back ${meta.format ?? 'unknown'} ${meta.width}x${meta.height}; will retry.`,
      );
    }
    results.push({ path: out, width: meta.width, height: meta.height, format: spec.format, bytes: written.length });
  }
  return results;
}
