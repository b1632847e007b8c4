/**
 * Report activity `contact-sheets` (the thumbnailer's last step, once per run): reads the run's
 * results parts and puts the first thumbnail of every item that got one on contact sheets of at
 * most {@link maxTiles} each, key `outputs/<pipeline>/<run>/contact-sheet-001.jpg`, -002, … in the
 * order of the parts (on the local backend `<dataDir>/outputs/…`). Thumbnails are read by their
 * URIs (from the bucket when they are there), each sheet is made in a scratch folder and published
 * once; the report returns the sheets' URIs. No list of thumbnails travels in a payload. A thumbnail that cannot
 * be read leaves its cell empty and a sheet that cannot be made is skipped: both are reported in
 * `notes`; the run never fails for a contact sheet.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { withScratch } from '../../storage/scratch';
import { publishFile } from '../../storage/stage-files';
import type { ReportCall, ReportFiles } from '../pipeline/report-types';
import { readResultLines } from '../pipeline/results';
import { contactSheetLayout, maxTiles, tilePixels, writeRawSheet } from './contact-sheet';
import { readStored, runOutputKey, runResultsLocation } from '../media/stored-media';

interface Entry {
  itemId: string;
  thumbnailPath: string;
}

/** Notes listed one by one up to this many; more are counted. */
const maxNotes = 20;

export const contactSheetName = (k: number) => `contact-sheet-${String(k + 1).padStart(3, '0')}.jpg`;

/** Smaller cells on big sheets, so a sheet of 1,000 stays a few megapixels. */
const tileWidthFor = (tiles: number) => (tiles <= 100 ? 320 : 160);

function thumbnailOf(data: Record<string, unknown> | undefined): string | undefined {
  const thumbnails = data?.thumbnails;
  const first = Array.isArray(thumbnails) ? (thumbnails[0] as { path?: unknown } | undefined) : undefined;
  return typeof first?.path === 'string' ? first.path : undefined;
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Called outside an activity (a script): nothing to tell.
  }
}

export function contactSheetsReport(call: ReportCall): Promise<ReportFiles> {
  return withScratch((scratch) => makeContactSheets(call, scratch));
}

async function makeContactSheets(call: ReportCall, scratch: string): Promise<ReportFiles> {
  const entries: Entry[] = [];
  for await (const line of readResultLines(runResultsLocation(call.pipeline, call.run))) {
    const thumbnailPath = line.status === 'completed' ? thumbnailOf(line.data) : undefined;
    if (thumbnailPath) entries.push({ itemId: line.id, thumbnailPath });
  }
  const notes: string[] = [];
  let unlisted = 0;
  const note = (text: string) => (notes.length < maxNotes ? notes.push(text) : (unlisted += 1));
  if (entries.length === 0) return { files: [], notes: ['no item has a thumbnail: no contact sheet'] };

  const files: string[] = [];
  // Identical thumbnails (re-uploads of one clip) are decoded once.
  const tiles = new Map<string, Buffer>();
  for (let k = 0; k * maxTiles < entries.length; k++) {
    const sheet = entries.slice(k * maxTiles, (k + 1) * maxTiles);
    const out = path.join(scratch, contactSheetName(k));
    try {
      const layout = contactSheetLayout(sheet.length, undefined, tileWidthFor(sheet.length));
      const cells: (Buffer | undefined)[] = [];
      for (let i = 0; i < sheet.length; i++) {
        if (i % 50 === 0) heartbeat({ sheet: k + 1, tiles: i });
        const { itemId, thumbnailPath } = sheet[i];
        try {
          const data = await readStored(thumbnailPath);
          const key = `${layout.cellWidth}:${createHash('sha1').update(data).digest('hex')}`;
          let pixels = tiles.get(key);
          if (!pixels) {
            pixels = await tilePixels(data, layout);
            tiles.set(key, pixels);
          }
          cells[i] = pixels;
        } catch (error) {
          note(
            `${contactSheetName(k)}: cell ${i + 1} left empty, item ${itemId}'s thumbnail ${thumbnailPath} cannot be read (${error instanceof Error ? error.message : String(error)})`,
          );
        }
      }
      await writeRawSheet(out, cells, layout, sheet.length <= 100);
      // Replaced, not kept: a report retried after more results (a redrive) makes the sheet anew.
      const published = await publishFile(out, runOutputKey(call.pipeline, call.run, contactSheetName(k)), {});
      files.push(published.uri);
    } catch (error) {
      note(`${contactSheetName(k)} was not made: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (unlisted > 0) notes.push(`… and ${unlisted} more notes like these`);
  return { files, notes };
}
