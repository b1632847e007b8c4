/**
 * Each item's end in a partition (completed with its data, dropped by a filter, dead-lettered
 * with its error), kept in workflow memory and written as the partition's results part at its
 * end, in chunks whose payloads stay small. Deterministic workflow code.
 *
 * The engine tells it where items are through the positions it already keeps (RecordingPositions)
 * and at the few places an item's data or fate is decided (a batch's answer, a drop, a dead letter).
 */
import { proxyActivities } from '@temporalio/workflow';
import type * as resultActivities from '../activities/pipeline/results';
import type { ResultLine } from '../activities/pipeline/results-types';
import type { PipelineItem, PipelineSpec } from '../pipelines/spec';
import { ItemPositions, Position } from './item-positions';
import { shardQueue } from './patterns/sharder';
import { itemText } from '../pipelines/item-text';

/** ItemPositions that also remember each item's last stage and which item moved last. */
export class RecordingPositions extends ItemPositions {
  readonly lastStage = new Map<number, string>();
  /** The item that entered a stage most recently: the one a filter or pattern stage is deciding on now. */
  lastMoving: number | undefined;

  override set(token: number, stage: string, state: Position): void {
    super.set(token, stage, state);
    this.lastStage.set(token, stage);
    if (state === 'moving') this.lastMoving = token;
  }
}

interface Letter {
  itemId: string;
  stage: string;
  error: { type: string; message: string };
  attempts: number;
  input: PipelineItem;
}

export class ItemResults {
  private readonly data = new Map<number, Record<string, unknown>>();
  private readonly dropped = new Map<number, string>();
  /** The partition's dead letters by stage and item, indexed as they come. */
  private readonly letters = new Map<string, Letter>();
  private indexed = 0;
  readonly lines: ResultLine[] = [];

  constructor(private readonly positions: RecordingPositions) {}

  /** A stage activity answered for the item: its new data. */
  updated(token: number, data: Record<string, unknown>): void {
    this.data.set(token, data);
  }

  /** A filter dropped the item it is deciding on now (the one that entered a stage last). */
  droppedHere(stage: string, token = this.positions.lastMoving): void {
    if (token !== undefined && !this.dropped.has(token)) this.dropped.set(token, stage);
  }

  /** The item's walk is over: its line. Its dead letter, if any, is among the partition's `letters`. */
  finished(token: number, item: PipelineItem, letters: Letter[]): void {
    for (; this.indexed < letters.length; this.indexed++) {
      const l = letters[this.indexed];
      this.letters.set(`${l.stage}\u0000${l.itemId}`, l);
    }
    const stage = this.positions.lastStage.get(token);
    const id = typeof item?.id === 'string' ? item.id : itemText(item?.id); // as the engine's dead letter names it
    // An item refused before its first stage (bad shape) has no stage: its letter names the entry.
    const letter =
      stage === undefined
        ? [...this.letters.values()].find((l) => l.itemId === id)
        : this.letters.get(`${stage}\u0000${id}`);
    const droppedAt = this.dropped.get(token);
    if (droppedAt !== undefined) {
      this.lines.push({ id, status: 'dropped', stage: droppedAt });
    } else if (letter) {
      const { error, attempts, input } = letter;
      this.lines.push({ id, status: 'deadLettered', stage: letter.stage, error, attempts, input });
    } else {
      this.lines.push({ id, status: 'completed', stage: stage ?? '', data: this.data.get(token) ?? item?.data });
    }
    this.data.delete(token);
    this.dropped.delete(token);
    this.positions.lastStage.delete(token);
  }
}

/**
 * Bytes of results lines per activity call: every event stays under 256 KB (the scale tests' bound,
 * half the server's 512 KiB blob warning), and a partition of 1,000 plain items is one call.
 */
export const resultsChunkBytes = 128 * 1024;
/** The chunk size of partitions recorded before the partition marker (their calls must replay alike). */
export const earlierResultsChunkBytes = 64 * 1024;

/** Lines cut into chunks of about `maxBytes` of JSON each (at least one line per chunk, at least one chunk). */
export function chunkLines(lines: ResultLine[], maxBytes = resultsChunkBytes): ResultLine[][] {
  const chunks: ResultLine[][] = [[]];
  let size = 0;
  for (const line of lines) {
    const bytes = JSON.stringify(line).length + 1;
    const current = chunks[chunks.length - 1];
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push([line]);
      size = bytes;
    } else {
      current.push(line);
      size += bytes;
    }
  }
  return chunks;
}

/** Writes a partition's lines as results part `part` of the run, chunk by chunk; its path. */
export async function writeResultsPart(
  pipeline: string,
  run: string,
  part: string,
  lines: ResultLine[],
  taskQueue: string,
  chunkBytes: number,
): Promise<string> {
  const acts = proxyActivities<typeof resultActivities>({
    summary: `results ${part}: ${lines.length} items`,
    taskQueue,
    startToCloseTimeout: '2 minutes',
    // No worker on the queue: give up after a while rather than hold the partition forever.
    scheduleToCloseTimeout: '15 minutes',
    heartbeatTimeout: '30 seconds',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: 10,
      nonRetryableErrorTypes: ['InvalidInput'],
    },
  });
  const chunks = chunkLines(lines, chunkBytes);
  const call = (chunk: number) =>
    acts.writeResultsPart({ pipeline, run, part, chunk, chunks: chunks.length, lines: chunks[chunk] });
  // Every chunk but the last at once; the last one joins them into the part.
  await Promise.all(chunks.slice(0, -1).map((_, chunk) => call(chunk)));
  return (await call(chunks.length - 1)).path;
}

/**
 * The task queue of a run's bookkeeping (item pages, results parts, their summary): one whose
 * workers run this pipeline's stages, so it is served. The spec's `activityQueue` when it names
 * one; the default activity queue when a stage
 * uses it (or none does any work), else the queue of its first activity stage, else shard 0 of
 * its first shard stage. Decided from the spec alone: the run and its partitions agree.
 */
export function bookkeepingQueue(spec: PipelineSpec, defaultQueue: string): string {
  if (spec.activityQueue) return spec.activityQueue;
  const stages = Object.values(spec.stages);
  const working = stages.filter((s) => s.kind === 'activity' || s.kind === 'shard');
  if (working.length === 0 || working.some((s) => s.kind === 'activity' && !s.taskQueue)) return defaultQueue;
  const first = working[0];
  return first.kind === 'activity' ? first.taskQueue! : shardQueue(first.queue, 0);
}
