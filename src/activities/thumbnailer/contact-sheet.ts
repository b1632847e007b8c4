import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import sharp from 'sharp';
import { invalidInput } from '../errors';
import { readInputFile } from '../fs/read-input';
import { writeAtomically } from '../../infra/atomic-write';
import type { ContactSheetFile, ContactSheetInput } from './types';

export const CONTACT_SHEET_NAME = 'contact-sheet.jpg';
const background = { r: 24, g: 24, b: 28 };
/** Most entries one sheet shows; a run with more gets several sheets (contact-sheets report). */
export const maxTiles = 1000;
const maxSheetPixels = 120_000_000;

export interface ContactSheetLayout {
  columns: number;
  rows: number;
  /** Cell size; every tile is letterboxed into one cell. Cells are 16:9. */
  cellWidth: number;
  cellHeight: number;
  /** Space between cells and around the grid. */
  gap: number;
  width: number;
  height: number;
}

/**
 * Grid geometry of a contact sheet: `columns` (default ceil(sqrt(tiles))) cells of `tileWidth` x round(tileWidth*9/16)
 * pixels (default 320x180) with a `gap` of 8 px between cells and around the edge.
 */
export function contactSheetLayout(tiles: number, columns?: number, tileWidth = 320): ContactSheetLayout {
  if (!Number.isInteger(tiles) || tiles < 1) throw invalidInput('A contact sheet needs at least one entry.', { tiles });
  if (!Number.isInteger(tileWidth) || tileWidth < 16 || tileWidth > 4096) {
    throw invalidInput(`tileWidth ${JSON.stringify(tileWidth)} is invalid; use a whole number from 16 to 4096.`, {
      tileWidth,
    });
  }
  if (columns !== undefined && (!Number.isInteger(columns) || columns < 1 || columns > 256)) {
    throw invalidInput(`columns ${JSON.stringify(columns)} is invalid; use a whole number from 1 to 256.`, { columns });
  }
  const cols = Math.min(tiles, columns ?? Math.ceil(Math.sqrt(tiles)));
  const rows = Math.ceil(tiles / cols);
  const gap = 8;
  const cellWidth = tileWidth;
  const cellHeight = Math.round((tileWidth * 9) / 16);
  return {
    columns: cols,
    rows,
    cellWidth,
    cellHeight,
    gap,
    width: cols * cellWidth + (cols + 1) * gap,
    height: rows * cellHeight + (rows + 1) * gap,
  };
}

/** A thumbnail's bytes as one cell's raw RGB pixels (letterboxed on the background). */
export function tilePixels(data: Buffer, layout: ContactSheetLayout): Promise<Buffer> {
  return sharp(data)
    .flatten({ background })
    .resize(layout.cellWidth, layout.cellHeight, { fit: 'contain', background })
    .removeAlpha()
    .raw()
    .toBuffer();
}

async function tile(
  entry: { itemId: string; thumbnailPath: string },
  index: number,
  layout: ContactSheetLayout,
): Promise<Buffer> {
  const file =
    typeof entry?.thumbnailPath === 'string' && entry.thumbnailPath !== '' ? path.resolve(entry.thumbnailPath) : '';
  const label = `entry ${index} (item ${JSON.stringify(entry?.itemId)})`;
  if (!file) throw invalidInput(`Contact sheet ${label} has no thumbnailPath.`, { index, itemId: entry?.itemId });
  const data = await readInputFile(file, () =>
    invalidInput(
      `Thumbnail ${file} of contact sheet ${label} does not exist; make the thumbnails first or drop the entry.`,
      {
        index,
        itemId: entry.itemId,
        thumbnailPath: file,
      },
    ),
  );
  try {
    return await tilePixels(data, layout);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw invalidInput(
      `Thumbnail ${file} of contact sheet ${label} is not a readable image (${reason}); remake it or drop the entry.`,
      {
        index,
        itemId: entry.itemId,
        thumbnailPath: file,
        reason,
      },
    );
  }
}

/** Where cell `i` of a layout goes, with its raw pixels. */
export function placedTile(pixels: Buffer, i: number, layout: ContactSheetLayout): sharp.OverlayOptions {
  const col = i % layout.columns;
  const row = Math.floor(i / layout.columns);
  return {
    input: pixels,
    raw: { width: layout.cellWidth, height: layout.cellHeight, channels: 3 },
    left: layout.gap + col * (layout.cellWidth + layout.gap),
    top: layout.gap + row * (layout.cellHeight + layout.gap),
  };
}

/**
 * Writes a grid of raw tiles (`undefined`: an empty cell) as a JPEG at `out` (atomically): the
 * tiles are copied row by row into one raw image, then encoded once — for sheets of hundreds of
 * tiles far quicker than as many composite operations.
 */
export async function writeRawSheet(
  out: string,
  tiles: (Buffer | undefined)[],
  layout: ContactSheetLayout,
  mozjpeg = true,
): Promise<void> {
  const stride = layout.width * 3;
  const canvas = Buffer.alloc(stride * layout.height);
  for (let p = 0; p < canvas.length; p += 3) {
    canvas[p] = background.r;
    canvas[p + 1] = background.g;
    canvas[p + 2] = background.b;
  }
  const rowBytes = layout.cellWidth * 3;
  tiles.forEach((tile, i) => {
    if (!tile) return;
    const left = layout.gap + (i % layout.columns) * (layout.cellWidth + layout.gap);
    const top = layout.gap + Math.floor(i / layout.columns) * (layout.cellHeight + layout.gap);
    for (let y = 0; y < layout.cellHeight; y++) {
      tile.copy(canvas, (top + y) * stride + left * 3, y * rowBytes, (y + 1) * rowBytes);
    }
  });
  await writeAtomically(out, async (tmp) => {
    await sharp(canvas, { raw: { width: layout.width, height: layout.height, channels: 3 } })
      .jpeg({ quality: 85, mozjpeg })
      .toFile(tmp);
  });
  const meta = await sharp(await fs.readFile(out)).metadata();
  if (meta.format !== 'jpeg' || meta.width !== layout.width || meta.height !== layout.height) {
    throw new Error(`Wrote ${out} but read back ${meta.format ?? 'unknown'} ${meta.width}x${meta.height}; will retry.`);
  }
}

/** Writes the grid of placed tiles as a JPEG at `out` (atomically) and checks what was written. */
export async function writeSheet(
  out: string,
  composites: sharp.OverlayOptions[],
  layout: ContactSheetLayout,
  /** mozjpeg: smaller files, but several times slower on sheets of many megapixels. */
  mozjpeg = true,
): Promise<void> {
  await writeAtomically(out, async (tmp) => {
    await sharp({ create: { width: layout.width, height: layout.height, channels: 3, background } })
      .composite(composites)
      .jpeg({ quality: 85, mozjpeg })
      .toFile(tmp);
  });
  const meta = await sharp(await fs.readFile(out)).metadata();
  if (meta.format !== 'jpeg' || meta.width !== layout.width || meta.height !== layout.height) {
    throw new Error(`Wrote ${out} but read back ${meta.format ?? 'unknown'} ${meta.width}x${meta.height}; will retry.`);
  }
}

/**
 * Activity: one JPEG grid `<outputDir>/contact-sheet.jpg` of all entries in the given order, each thumbnail
 * letterboxed into an equal cell on a dark background (geometry: {@link contactSheetLayout}). No text labels (fonts
 * may be missing on workers). Written atomically; safe to retry. No entries, a missing or unreadable thumbnail, or
 * bad geometry fail non-retryably.
 */
export async function makeContactSheet(input: ContactSheetInput): Promise<ContactSheetFile> {
  const ctx = Context.current();
  if (typeof input.outputDir !== 'string' || input.outputDir.trim() === '') {
    throw invalidInput("No output folder was given (outputDir is empty); pass the run's output folder.", {});
  }
  const entries = input.entries;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw invalidInput(
      'The contact sheet has no entries: there is nothing to show. Pass at least one { itemId, thumbnailPath }.',
      {
        entries: Array.isArray(entries) ? 0 : typeof entries,
      },
    );
  }
  if (entries.length > maxTiles) {
    throw invalidInput(
      `The contact sheet has ${entries.length} entries, more than ${maxTiles}; split the batch into several sheets.`,
      {
        entries: entries.length,
      },
    );
  }
  const layout = contactSheetLayout(entries.length, input.columns, input.tileWidth);
  if (layout.width * layout.height > maxSheetPixels || layout.width > 65000 || layout.height > 65000) {
    throw invalidInput(
      `The contact sheet would be ${layout.width}x${layout.height} pixels, too large; use a smaller tileWidth or fewer entries.`,
      { width: layout.width, height: layout.height },
    );
  }

  const composites: sharp.OverlayOptions[] = [];
  for (let i = 0; i < entries.length; i++) {
    if (i % 20 === 0) {
      ctx.cancellationSignal.throwIfAborted();
      ctx.heartbeat({ stage: 'contact-sheet', tiles: i, of: entries.length });
    }
    composites.push(placedTile(await tile(entries[i], i, layout), i, layout));
  }

  const out = path.join(path.resolve(input.outputDir), CONTACT_SHEET_NAME);
  await writeSheet(out, composites, layout);
  return { path: out, width: layout.width, height: layout.height, tiles: entries.length };
}
