import type { WorkItem } from '../core/work-item';

/**
 * The seeds' "source container interface": where work items come from. A source yields items
 * with stable IDs; the run workflow never reads the filesystem itself.
 */
export interface Source<P> {
  /** A short description for logs and summaries, e.g. `directory ./videos`. */
  readonly description: string;
  items(): AsyncIterable<WorkItem<P>>;
}

export interface FilePayload {
  /** Absolute path of the file. */
  path: string;
}

/** Reads a whole source into memory (sources here are lists of references, not media). */
export async function collect<P>(source: Source<P>): Promise<WorkItem<P>[]> {
  const items: WorkItem<P>[] = [];
  for await (const item of source.items()) items.push(item);
  return items;
}
