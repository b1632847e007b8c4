/**
 * The run's bookkeeping activities: results parts (one JSON line per item, written by each
 * partition at its end), the summary of a run's parts (counts, failures grouped by reason with a
 * few examples) and pages of a run's item manifest. Idempotent: every path derives from the run,
 * files are written to a temporary name and renamed.
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { Context } from '@temporalio/activity';
import type { PipelineItem } from '../../pipelines/spec';
import { invalidInput } from '../errors';
import { writeAtomically } from '../fs/atomic-write';
import {
  examplesPerGroup,
  FailureGroup,
  ItemsPageCall,
  maxFailureGroups,
  ResultLine,
  ResultsPartCall,
  ResultsPartFile,
  ResultsRef,
  ResultsSummary,
} from './results-types';
import { dataDir } from '../../runtime/paths';
import { runResultsDir } from './run-outputs';

const partPattern = /^part-\d{5}(\.[A-Za-z0-9_-]+)*$/;

function partPath(call: Pick<ResultsPartCall, 'pipeline' | 'run' | 'part'>): string {
  if (!partPattern.test(call.part)) {
    throw invalidInput(`Results part name ${JSON.stringify(call.part)} is not of the form part-NNNNN[.branch].`, {
      part: call.part,
    });
  }
  return path.join(runResultsDir(call.pipeline, call.run), `${call.part}.jsonl`);
}

const chunkPath = (part: string, chunk: number) =>
  `${path.join(path.dirname(part), `.${path.basename(part)}`)}.chunk-${chunk}`;

const jsonl = (lines: ResultLine[]) => lines.map((l) => JSON.stringify(l) + '\n').join('');

/**
 * Writes a results part. A large part comes in chunks (each payload stays small), called in
 * order: chunks before the last are kept beside the part (hidden), the last one joins them into
 * `part-NNNNN.jsonl` and removes them. A retry rewrites the same chunk; a retry of the last
 * chunk after the part exists finds it complete.
 */
export async function writeResultsPart(call: ResultsPartCall): Promise<ResultsPartFile> {
  const target = partPath(call);
  if (call.chunk < call.chunks - 1) {
    await writeAtomically(chunkPath(target, call.chunk), (tmp) => fs.writeFile(tmp, jsonl(call.lines)));
    return { path: target, lines: call.lines.length };
  }
  const earlier: string[] = [];
  for (let k = 0; k < call.chunk; k++) earlier.push(chunkPath(target, k));
  const missing = await Promise.all(
    earlier.map((f) =>
      fs.access(f).then(
        () => false,
        () => true,
      ),
    ),
  );
  if (missing.some(Boolean)) {
    // Done before (this is a retry after the join): the part is complete.
    const existing = await fs.readFile(target, 'utf8').catch(() => undefined);
    if (existing !== undefined) return { path: target, lines: existing.split('\n').length - 1 };
    throw new Error(`Results part ${target}: chunk ${missing.indexOf(true)} is missing; the partition will retry.`);
  }
  let count = call.lines.length;
  await writeAtomically(target, async (tmp) => {
    const out = await fs.open(tmp, 'w');
    try {
      for (const file of earlier) {
        const text = await fs.readFile(file, 'utf8');
        count += text.length === 0 ? 0 : text.split('\n').length - 1;
        await out.write(text);
      }
      await out.write(jsonl(call.lines));
    } finally {
      await out.close();
    }
  });
  await Promise.all(earlier.map((f) => fs.rm(f, { force: true })));
  return { path: target, lines: count };
}

/** The part files of a run's results folder, in order (none yet: empty). */
export async function resultsParts(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return names
    .filter((n) => n.startsWith('part-') && n.endsWith('.jsonl'))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Every line of every part of a results folder, part by part (a few lines in memory at a time). */
export async function* readResultLines(dir: string): AsyncGenerator<ResultLine> {
  for (const file of await resultsParts(dir)) {
    const lines = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as ResultLine;
  }
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

/** Counts, failure groups and examples of the parts of a run's results folder. */
export async function summarizeResultsDir(dir: string): Promise<ResultsSummary> {
  const counts = { completed: 0, dropped: 0, deadLettered: 0 };
  const groups = new Map<string, FailureGroup>();
  const completedExamples: string[] = [];
  let n = 0;
  for await (const line of readResultLines(dir)) {
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
  const sorted = [...groups.values()].sort((a, b) => b.count - a.count);
  return {
    dir,
    parts: (await resultsParts(dir)).length,
    counts,
    failureGroups: sorted.slice(0, maxFailureGroups),
    otherFailureGroups: Math.max(0, sorted.length - maxFailureGroups),
    completedExamples,
  };
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Outside an activity (a CLI reading a folder): nothing to tell.
  }
}

/** Activity: the summary of a finished run's results parts (a few lines, whatever the run's size). */
export async function summarizeResults(ref: ResultsRef): Promise<ResultsSummary> {
  return summarizeResultsDir(runResultsDir(ref.pipeline, ref.run));
}

/** Activity: items `from` … `from + count - 1` of a JSON Lines manifest (one item per line). */
export async function readItemsPage(call: ItemsPageCall): Promise<PipelineItem[]> {
  // Only manifests the client wrote for a run: a workflow input cannot make a worker read other files.
  const inputs = path.join(dataDir, 'inputs') + path.sep;
  if (typeof call.path !== 'string' || !path.resolve(call.path).startsWith(inputs) || call.path.includes('\0')) {
    throw invalidInput(
      `An item manifest must be a run's items.jsonl under ${inputs}; ${JSON.stringify(call.path)} is not.`,
      {
        path: call.path,
      },
    );
  }
  const items: PipelineItem[] = [];
  let index = 0;
  let stream;
  try {
    await fs.access(call.path);
    stream = createReadStream(call.path);
  } catch {
    throw invalidInput(`The run's item manifest ${call.path} does not exist; start the run again.`, {
      path: call.path,
    });
  }
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    if (index >= call.from && index < call.from + call.count) {
      try {
        items.push(JSON.parse(line) as PipelineItem);
      } catch {
        throw invalidInput(`Line ${index + 1} of the item manifest ${call.path} is not JSON.`, { path: call.path });
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

/** Writes a run's item manifest (client side): one item per line, atomically. */
export async function writeItemsFile(file: string, items: PipelineItem[]): Promise<void> {
  await writeAtomically(file, (tmp) => fs.writeFile(tmp, items.map((i) => JSON.stringify(i) + '\n').join('')));
}

/** The run's bookkeeping activities, as workers register them (beside the report activities). */
export const resultActivities = { writeResultsPart, summarizeResults, readItemsPage };
