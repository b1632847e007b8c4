/**
 * The item reader's activities (types in item-reader-types.ts). `planItems` walks the source once
 * and returns only where each page starts (a listing key, or a byte offset in a JSON Lines or CSV
 * object), so the plan stays small whatever the number of items; `readItems` reads one page — one
 * partition's items — by a listing from that key or a ranged read from that offset.
 *
 * Only objects of the configured store are read (`s3://…`, or paths inside the local data folder):
 * a workflow input cannot make a worker read files elsewhere on its host. A line or row that is
 * not an item is not an error of the run: it comes back as a refused item, which the partition
 * dead-letters with the reason (type InvalidItem).
 */
import type { Readable } from 'node:stream';
import { Context } from '@temporalio/activity';
import type { PipelineItem } from '../../pipelines/spec';
import { CsvRowError, parseCsvRow } from '../../sources/csv-row';
import { itemIdForUri } from '../../sources/item-id';
import { fileItemData } from '../../sources/path-items';
import { ObjectMissingError, type ObjectStore, StorageUriError } from '../../storage/object-store';
import { storeHolding } from '../../storage/storage';
import { invalidInput } from '../errors';
import type {
  ItemPage,
  ItemPlan,
  ItemReaderSpec,
  ItemsRead,
  PlanItemsCall,
  ReadItemsCall,
  RefusedItem,
} from '../../pipelines/item-reader-types';

/** Objects per listing call (S3's maximum). */
const listingPage = 1000;
/** A plan larger than this would crowd the run's history: the run is refused with the fix. */
const maxPlanBytes = 1_000_000;
/** Longer lines are refused items: no line is held in memory past this. */
export const maxLineBytes = 1024 * 1024;
const idPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const jsonlExample = '{"id": "a1", "data": {"uri": "s3://bucket/a1.jpg"}}';

interface Where {
  store: ObjectStore;
  /** listing: the key prefix ('' for a whole bucket); jsonl/csv: the object's key. */
  key: string;
}

/** The store and key the reader names; bad input when it names nothing this worker may read. */
function locate(reader: ItemReaderSpec): Where {
  const { uri, format } = reader;
  const refuse = (why: string) => invalidInput(`The item reader cannot read ${JSON.stringify(uri)}: ${why}`, { uri });
  if (typeof uri !== 'string' || uri === '' || uri.includes('\0')) throw refuse('it is not a URI.');
  if (!['listing', 'jsonl', 'csv'].includes(format))
    throw refuse(`format ${JSON.stringify(format)} is not listing, jsonl or csv.`);
  const trimmed = format === 'listing' ? uri.replace(/\/+$/, '') : uri;
  let store: ObjectStore | undefined;
  try {
    store = storeHolding(format === 'listing' ? `${trimmed}/` : trimmed);
  } catch (error) {
    if (error instanceof StorageUriError) throw refuse(error.message);
    throw error;
  }
  if (!store) {
    throw refuse(
      'it is neither an s3:// URI nor inside the data folder. Upload the items to the store, or pass local files to the CLI, which reads them itself.',
    );
  }
  if (format === 'listing' && /^s3:\/\/[^/]+$/.test(trimmed)) return { store, key: '' };
  try {
    const key = store.keyOf(trimmed);
    return { store, key: format === 'listing' ? `${key}/` : key };
  } catch (error) {
    if (error instanceof StorageUriError) throw refuse(error.message);
    throw error;
  }
}

async function open(where: Where, reader: ItemReaderSpec, start?: number): Promise<Readable> {
  try {
    return await where.store.openRead(where.key, { start });
  } catch (error) {
    if (error instanceof ObjectMissingError)
      throw invalidInput(`The items object ${reader.uri} does not exist; upload it or correct the URI.`, {
        uri: reader.uri,
      });
    throw error;
  }
}

interface Line {
  /** The line's text (without its end), or undefined when it is longer than maxLineBytes. */
  text: string | undefined;
  offset: number;
  line: number;
}

/** Lines of a stream that starts at byte `offset` (line `firstLine`), with each line's byte offset. */
async function* linesOf(stream: Readable, offset: number, firstLine: number): AsyncGenerator<Line> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let tooLong = false;
  let lineStart = offset;
  let position = offset;
  let line = firstLine;
  const take = (): Line => {
    const text = tooLong ? undefined : Buffer.concat(pending).toString('utf8').replace(/\r$/, '');
    return { text, offset: lineStart, line };
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let from = 0;
    for (;;) {
      const end = chunk.indexOf(0x0a, from);
      const piece = chunk.subarray(from, end < 0 ? chunk.length : end);
      if (!tooLong) {
        pendingBytes += piece.length;
        if (pendingBytes > maxLineBytes) {
          tooLong = true;
          pending = [];
        } else pending.push(piece);
      }
      if (end < 0) break;
      yield take();
      line += 1;
      lineStart = position + end + 1;
      pending = [];
      pendingBytes = 0;
      tooLong = false;
      from = end + 1;
    }
    position += chunk.length;
  }
  if (pendingBytes > 0 || tooLong) yield take();
}

/** Whether a line holds an item: not blank (nor, in JSON Lines, a `#` comment). */
const isItemLine = (format: ItemReaderSpec['format'], text: string | undefined) =>
  text === undefined || (text.trim() !== '' && !(format === 'jsonl' && text.trimStart().startsWith('#')));

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Outside an activity: nothing to tell.
  }
}

/** Activity: the run's pages of `pageSize` items — where each starts, never the items themselves. */
export async function planItems(call: PlanItemsCall): Promise<ItemPlan> {
  const { reader, pageSize } = call;
  if (!Number.isInteger(pageSize) || pageSize < 1)
    throw invalidInput(`The page size ${pageSize} is not a whole number ≥ 1.`, { pageSize });
  const where = locate(reader);
  const pages: ItemPage[] = [];
  let total = 0;
  let planBytes = 0;
  const add = (page: Omit<ItemPage, 'count'>) => {
    if (total % pageSize === 0) {
      pages.push({ ...page, count: 0 });
      planBytes += JSON.stringify(page).length + 12;
      if (planBytes > maxPlanBytes) {
        throw invalidInput(
          `${reader.uri} holds too many items for pages of ${pageSize} (over ${pages.length} pages so far): raise the pipeline's partitionSize.`,
          { uri: reader.uri },
        );
      }
    }
    pages[pages.length - 1].count += 1;
    total += 1;
    if (total % 10_000 === 0) heartbeat({ items: total });
  };
  if (reader.format === 'listing') {
    let after: string | undefined;
    do {
      const listed = await where.store.list(where.key, { after, limit: listingPage });
      for (const o of listed.objects) {
        add(total % pageSize === 0 && after !== undefined ? { after } : {});
        after = o.key;
      }
      if (listed.next === undefined) break;
      after = listed.next;
    } while (after !== undefined);
    // The first page starts at the beginning: no `after`.
    return { total, pages };
  }
  let columns: string[] | undefined;
  for await (const line of linesOf(await open(where, reader), 0, 1)) {
    if (!isItemLine(reader.format, line.text)) continue;
    if (reader.format === 'csv' && columns === undefined) {
      columns = headerOf(reader, line);
      continue;
    }
    add({ offset: line.offset, line: line.line });
  }
  if (reader.format === 'csv' && columns === undefined)
    throw invalidInput(`${reader.uri} is empty: a CSV items object needs a header row, then one row per item.`, {
      uri: reader.uri,
    });
  return { total, pages, ...(columns ? { columns } : {}) };
}

function headerOf(reader: ItemReaderSpec, line: Line): string[] {
  let columns: string[];
  try {
    if (line.text === undefined) throw new CsvRowError(`longer than ${maxLineBytes} bytes`);
    columns = parseCsvRow(line.text.replace(/^\uFEFF/, '')).map((c) => c.trim());
  } catch (error) {
    throw invalidInput(
      `The header row (line ${line.line}) of ${reader.uri} is not CSV (${(error as Error).message}); fix it and start the run again.`,
      { uri: reader.uri },
    );
  }
  const bad = columns.find((c, i) => c === '' || columns.indexOf(c) !== i);
  if (bad !== undefined) {
    throw invalidInput(
      `The header row of ${reader.uri} has ${bad === '' ? 'an empty column name' : `column "${bad}" twice`}: name every column once.`,
      { uri: reader.uri },
    );
  }
  return columns;
}

/** Activity: one page of items (one partition's), and the lines or rows that are not items. */
export async function readItems(call: ReadItemsCall): Promise<ItemsRead> {
  const { reader, page } = call;
  const where = locate(reader);
  const read: ItemsRead = { items: [], refused: [] };
  if (reader.format === 'listing') {
    let after = page.after;
    while (read.items.length < page.count) {
      const listed = await where.store.list(where.key, {
        after,
        limit: Math.min(listingPage, page.count - read.items.length),
      });
      for (const o of listed.objects) {
        const name = o.key.slice(o.key.lastIndexOf('/') + 1);
        const data =
          where.store.kind === 'local'
            ? { ...fileItemData(o.uri, o.bytes), uri: o.uri }
            : {
                uri: o.uri,
                name,
                bytes: o.bytes,
                extension: name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '',
              };
        read.items.push({ id: itemIdForUri(o.uri), data });
      }
      if (listed.next === undefined || listed.objects.length === 0) break;
      after = listed.next;
    }
    return read;
  }
  if (reader.format === 'csv' && !Array.isArray(call.columns))
    throw invalidInput(`Reading a page of ${reader.uri} needs the header's columns from the run's plan.`, {
      uri: reader.uri,
    });
  let taken = 0;
  for await (const line of linesOf(await open(where, reader, page.offset ?? 0), page.offset ?? 0, page.line ?? 1)) {
    if (taken >= page.count) break;
    if (!isItemLine(reader.format, line.text)) continue;
    taken += 1;
    const outcome = reader.format === 'jsonl' ? jsonItem(reader, line) : csvItem(reader, line, call.columns!);
    if ('error' in outcome) read.refused.push(outcome);
    else read.items.push(outcome);
  }
  return read;
}

function refused(reader: ItemReaderSpec, line: Line, id: string, why: string): RefusedItem {
  const text = line.text === undefined ? undefined : line.text.slice(0, 1000);
  return {
    item: { id, data: { source: reader.uri, line: line.line, ...(text === undefined ? {} : { text }) } },
    error: { type: 'InvalidItem', message: `line ${line.line} of ${reader.uri} ${why}` },
  };
}

function jsonItem(reader: ItemReaderSpec, line: Line): PipelineItem | RefusedItem {
  const fallback = `line-${line.line}`;
  if (line.text === undefined) return refused(reader, line, fallback, `is longer than ${maxLineBytes} bytes.`);
  let value: unknown;
  try {
    value = JSON.parse(line.text);
  } catch (error) {
    return refused(
      reader,
      line,
      fallback,
      `is not JSON (${(error as Error).message}); each line must be an object like ${jsonlExample}.`,
    );
  }
  const record = value as Partial<PipelineItem> | null;
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    return refused(reader, line, fallback, `is not an object; each line must be an object like ${jsonlExample}.`);
  if (typeof record.id !== 'string' || !idPattern.test(record.id))
    return refused(
      reader,
      line,
      fallback,
      `has no usable "id" (${JSON.stringify(record.id ?? null)}): use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
    );
  if (
    record.data !== undefined &&
    (typeof record.data !== 'object' || record.data === null || Array.isArray(record.data))
  )
    return refused(reader, line, record.id, `has "data" that is not an object.`);
  return {
    id: record.id,
    data: (record.data as Record<string, unknown>) ?? {},
    ...(typeof record.origin === 'string' ? { origin: record.origin } : {}),
  };
}

function csvItem(reader: ItemReaderSpec, line: Line, columns: string[]): PipelineItem | RefusedItem {
  const fallback = `line-${line.line}`;
  if (line.text === undefined) return refused(reader, line, fallback, `is longer than ${maxLineBytes} bytes.`);
  let fields: string[];
  try {
    fields = parseCsvRow(line.text);
  } catch (error) {
    return refused(reader, line, fallback, `is not a CSV row: ${(error as Error).message}.`);
  }
  if (fields.length !== columns.length)
    return refused(
      reader,
      line,
      fallback,
      `has ${fields.length} field${fields.length === 1 ? '' : 's'} but the header has ${columns.length} (${columns.join(', ')}): fix the row.`,
    );
  const data = Object.fromEntries(columns.map((c, i) => [c, fields[i]]));
  const idAt = columns.indexOf('id');
  if (idAt < 0) return { id: `row-${line.line}`, data };
  const id = fields[idAt].trim();
  if (!idPattern.test(id))
    return refused(
      reader,
      line,
      fallback,
      `has an unusable id ${JSON.stringify(id)}: use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
    );
  return { id, data };
}

export const itemReaderActivities = { planItems, readItems };
