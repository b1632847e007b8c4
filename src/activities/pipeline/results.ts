/**
 * The run's bookkeeping activities, on the object store (src/storage): results parts (one JSON
 * line per item, written by each partition at its end) under `results/<pipeline>/<run>/`, the
 * summary of a run's parts (counts, failures grouped by reason with a few examples) with the
 * run's `manifest.json` beside them, and pages of a run's item manifest. Idempotent: every key
 * derives from the run, and an object appears only whole.
 */
import path from 'node:path';
import readline from 'node:readline';
import { Context } from '@temporalio/activity';
import type { PipelineItem } from '../../pipelines/spec';
import { LocalObjectStore } from '../../storage/local-store';
import { joinKey, ObjectMissingError, type ObjectStore, type StoredObject } from '../../storage/object-store';
import { storage, storeHolding } from '../../storage/storage';
import { invalidInput } from '../errors';
import {
  examplesPerGroup,
  FailureGroup,
  ItemsPageCall,
  maxFailureGroups,
  ResultLine,
  ResultsManifest,
  ResultsPartCall,
  ResultsPartFile,
  ResultsRef,
  ResultsSummary,
} from './results-types';
import { dataDir } from '../../infra/paths';
import { itemReaderActivities } from './item-reader';
import { runResultsKey } from './run-outputs';

const partPattern = /^part-\d{5}(\.[A-Za-z0-9_-]+)*$/;

function partKey(call: Pick<ResultsPartCall, 'pipeline' | 'run' | 'part'>): string {
  if (!partPattern.test(call.part)) {
    throw invalidInput(`Results part name ${JSON.stringify(call.part)} is not of the form part-NNNNN[.branch].`, {
      part: call.part,
    });
  }
  return joinKey(runResultsKey(call.pipeline, call.run), `${call.part}.jsonl`);
}

/** A chunk waiting beside its part, under a hidden name (never listed as a part). */
const chunkKey = (part: string, chunk: number) => {
  const cut = part.lastIndexOf('/');
  return `${part.slice(0, cut)}/.${part.slice(cut + 1)}.chunk-${chunk}`;
};

const jsonl = (lines: ResultLine[]) => lines.map((l) => JSON.stringify(l) + '\n').join('');
const lineCount = (text: Buffer) => text.toString('utf8').split('\n').length - 1;

/**
 * Writes a results part. A large part comes in chunks (each payload stays small), called in
 * order: chunks before the last are stored beside the part (hidden), the last one joins them into
 * `part-NNNNN.jsonl` and removes them. A retry rewrites the same chunk; a retry of the last
 * chunk after the part exists finds it complete.
 */
export async function writeResultsPart(call: ResultsPartCall): Promise<ResultsPartFile> {
  const store = storage();
  const key = partKey(call);
  if (call.chunk < call.chunks - 1) {
    await store.putBytes(chunkKey(key, call.chunk), jsonl(call.lines));
    return { path: store.uriOf(key), lines: call.lines.length };
  }
  const earlier = Array.from({ length: call.chunk }, (_, k) => chunkKey(key, k));
  const bodies = await Promise.all(earlier.map((k) => store.getBytes(k)));
  const missing = bodies.findIndex((b) => b === undefined);
  if (missing >= 0) {
    // Done before (this is a retry after the join): the part is complete.
    const existing = await store.getBytes(key);
    if (existing !== undefined) return { path: store.uriOf(key), lines: lineCount(existing) };
    throw new Error(`Results part ${store.uriOf(key)}: chunk ${missing} is missing; the partition will retry.`);
  }
  const body = Buffer.concat([...(bodies as Buffer[]), Buffer.from(jsonl(call.lines))]);
  const put = await store.putBytes(key, body, { contentType: 'application/x-ndjson' });
  await Promise.all(earlier.map((k) => store.delete(k)));
  return { path: put.uri, lines: lineCount(body) };
}

/**
 * The store and key prefix of a run's results location (`results.dir`: a folder path on the local
 * backend, `s3://bucket/results/<pipeline>/<run>` on S3); a folder elsewhere on this host is read as is.
 */
function resultsAt(location: string): { store: ObjectStore; prefix: string } {
  const trimmed = location.replace(/\/+$/, '');
  const store = storeHolding(trimmed);
  if (store) return { store, prefix: store.keyOf(trimmed) };
  // A folder under <dataDir> (runResultsDir) names the same key in whichever store is configured.
  const relative = path.relative(dataDir, path.resolve(trimmed));
  if (relative.startsWith(`results${path.sep}`) && !relative.includes(`..`))
    return { store: storage(), prefix: relative.split(path.sep).join('/') };
  return { store: new LocalObjectStore(trimmed), prefix: '' };
}

/** The part objects of a results location, in key order (none yet: empty). */
async function partObjects(location: string): Promise<{ store: ObjectStore; parts: StoredObject[] }> {
  const { store, prefix } = resultsAt(location);
  const parts: StoredObject[] = [];
  let after: string | undefined;
  do {
    const page = await store.list(joinKey(prefix, 'part-'), { after, limit: 1000 });
    parts.push(
      ...page.objects.filter((o) => o.key.endsWith('.jsonl') && !o.key.slice(prefix.length + 1).includes('/')),
    );
    after = page.next;
  } while (after !== undefined);
  return { store, parts };
}

/** The URIs of a run's results parts, in order (a path each on the local backend). */
export async function resultsParts(location: string): Promise<string[]> {
  return (await partObjects(location)).parts.map((p) => p.uri);
}

/** Lines of one part object, streamed (a few in memory at a time). */
async function* partLines(store: ObjectStore, key: string): AsyncGenerator<ResultLine> {
  const lines = readline.createInterface({ input: await store.openRead(key), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as ResultLine;
}

/** Every line of every part of a run's results (location: `results.dir`), part by part. */
export async function* readResultLines(location: string): AsyncGenerator<ResultLine> {
  const { store, parts } = await partObjects(location);
  for (const part of parts) yield* partLines(store, part.key);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A message with what varies per item masked, so alike failures group together: the item's ID,
 * quoted values, parenthesized details, paths and numbers become `<id>`, `"…"`, `(…)`, `<path>`, `<n>`.
 */
export function messagePattern(message: string, itemId: string): string {
  let m = message.slice(0, 500);
  if (itemId) m = m.replace(new RegExp(escapeRegExp(itemId), 'g'), '<id>');
  return (
    m
      .replace(/"[^"]*"/g, '"…"')
      // A library's words in parentheses vary from call to call (even for the same file).
      .replace(/\([^()]*\)/g, '(…)')
      .replace(/(?:[A-Za-z]:)?(?:\/[^\s/:,;()"']+)+\/?/g, '<path>')
      .replace(/\d+(?:\.\d+)?/g, '<n>')
  );
}

/** Counts, failure groups and examples of the parts at a results location, and each part's size. */
async function summarizeAt(location: string): Promise<{ summary: ResultsSummary; parts: ResultsManifest['parts'] }> {
  const counts = { completed: 0, dropped: 0, deadLettered: 0 };
  const groups = new Map<string, FailureGroup>();
  const completedExamples: string[] = [];
  const parts: ResultsManifest['parts'] = [];
  let n = 0;
  const { store, parts: objects } = await partObjects(location);
  for (const part of objects) {
    let lines = 0;
    for await (const line of partLines(store, part.key)) {
      lines += 1;
      if ((n++ & 1023) === 0) heartbeat({ lines: n });
      counts[line.status] = (counts[line.status] ?? 0) + 1;
      if (line.status === 'completed' && completedExamples.length < examplesPerGroup) completedExamples.push(line.id);
      if (line.status !== 'deadLettered') continue;
      const type = line.error?.type ?? 'Error';
      const pattern = messagePattern(line.error?.message ?? '', line.id);
      const key = JSON.stringify([line.stage, type, pattern]);
      const message = line.error?.message ?? '';
      const group = groups.get(key) ?? { stage: line.stage, type, pattern, message, count: 0, examples: [] };
      group.count += 1;
      if (group.examples.length < examplesPerGroup) group.examples.push(line.id);
      groups.set(key, group);
    }
    parts.push({ uri: part.uri, lines, bytes: part.bytes });
  }
  const sorted = [...groups.values()].sort((a, b) => b.count - a.count);
  const summary: ResultsSummary = {
    dir: location,
    parts: objects.length,
    counts,
    failureGroups: sorted.slice(0, maxFailureGroups),
    otherFailureGroups: Math.max(0, sorted.length - maxFailureGroups),
    completedExamples,
  };
  return { summary, parts };
}

/** Counts, failure groups and examples of the parts at a results location (`results.dir`). */
export async function summarizeResultsDir(location: string): Promise<ResultsSummary> {
  return (await summarizeAt(location)).summary;
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Outside an activity (a CLI reading a folder): nothing to tell.
  }
}

/** Key of a run's results manifest: `results/<pipeline>/<run>/manifest.json`. */
export const resultsManifestKey = (pipeline: string, run: string) =>
  joinKey(runResultsKey(pipeline, run), 'manifest.json');

/**
 * Activity: the summary of a finished run's results parts (a few lines, whatever the run's size),
 * after writing the run's `manifest.json` beside them (like Step Functions' ResultWriter): every
 * part with its lines and bytes, and the counts. Written when the run closes, from the parts
 * themselves, so a retry writes the same manifest.
 */
export async function summarizeResults(ref: ResultsRef): Promise<ResultsSummary> {
  const store = storage();
  const location = store.uriOf(runResultsKey(ref.pipeline, ref.run));
  const { summary, parts } = await summarizeAt(location);
  const manifest: ResultsManifest = {
    pipeline: ref.pipeline,
    run: ref.run,
    format: 'jsonl',
    results: location,
    items: parts.reduce((n, p) => n + p.lines, 0),
    counts: summary.counts,
    parts,
  };
  const key = resultsManifestKey(ref.pipeline, ref.run);
  const put = await store.putBytes(key, `${JSON.stringify(manifest, null, 2)}\n`, { contentType: 'application/json' });
  return { ...summary, manifest: put.uri };
}

/** The store and key of a run's item manifest, refused unless it is a run's `inputs/…/items.jsonl`. */
function itemManifestAt(call: ItemsPageCall): { store: ObjectStore; key: string; name: string } {
  const store = storage();
  const name = call.uri ?? call.path;
  // Only manifests a client wrote for a run: a workflow input cannot make a worker read other data.
  const refuse = () =>
    invalidInput(
      `An item manifest must be a run's items.jsonl under ${store.uriOf('inputs')}; ${JSON.stringify(name)} is not.`,
      { path: name },
    );
  if (typeof name !== 'string' || name.includes('\0')) throw refuse();
  // Runs started before the object store named a file under <dataDir>/inputs (the same as a local URI).
  const holder = call.uri !== undefined ? store : new LocalObjectStore(dataDir);
  if (!holder.owns(name)) throw refuse();
  let key: string;
  try {
    key = holder.keyOf(name);
  } catch {
    throw refuse();
  }
  if (!/^inputs\/[^/]+\/[^/]+\/items\.jsonl$/.test(key)) throw refuse();
  return { store: holder, key, name };
}

/** Activity: items `from` … `from + count - 1` of a run's JSON Lines item manifest (one item per line). */
export async function readItemsPage(call: ItemsPageCall): Promise<PipelineItem[]> {
  const { store, key, name } = itemManifestAt(call);
  const items: PipelineItem[] = [];
  let index = 0;
  let stream;
  try {
    stream = await store.openRead(key);
  } catch (error) {
    if (error instanceof ObjectMissingError)
      throw invalidInput(`The run's item manifest ${name} does not exist; start the run again.`, { path: name });
    throw error;
  }
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    if (index >= call.from && index < call.from + call.count) {
      try {
        items.push(JSON.parse(line) as PipelineItem);
      } catch {
        throw invalidInput(`Line ${index + 1} of the item manifest ${name} is not JSON.`, { path: name });
      }
    }
    index += 1;
    if (index >= call.from + call.count) {
      lines.close();
      stream.destroy();
      break;
    }
  }
  return items;
}

/** Writes a run's item manifest (client side, to the configured store): one item per line; its URI. */
export async function writeItemsManifest(key: string, items: PipelineItem[]): Promise<string> {
  const body = items.map((i) => JSON.stringify(i) + '\n').join('');
  return (await storage().putBytes(key, body, { contentType: 'application/x-ndjson' })).uri;
}

/** The run's bookkeeping activities, as workers register them (beside the report activities). */
export const resultActivities = { writeResultsPart, summarizeResults, readItemsPage, ...itemReaderActivities };
