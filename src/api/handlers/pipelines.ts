/**
 * GET /pipelines and POST /pipelines/{pipeline}/runs: the pipelines offered by name, and a run of
 * one on inline items or on a source path under the input roots.
 */
import { randomBytes } from 'node:crypto';
import { submitPipelineRun } from '../../client/pipeline-run';
import { timestampedRunName } from '../../core/run-name';
import type { CatalogEntry } from '../../pipelines/catalog';
import { didYouMean } from '../../pipelines/did-you-mean';
import type { PipelineItem } from '../../pipelines/spec';
import { resolveUnderRoots } from '../../sources/input-roots';
import { pipelineItemsFromPath } from '../../sources/path-items';
import { itemReaderOf } from '../../sources/item-reader';
import type { ItemReaderSpec } from '../../pipelines/item-reader-types';
import type { ApiContext, ApiRequest, ApiResponse } from '../context';
import { ApiError } from '../errors';
import { maxBodyBytes } from '../limits';
import type { StartRunRequest } from '../schemas';
import { confineBuildItems, withPathsUnderRoots } from '../input-roots';
import { runRef } from './run-ref';

export async function listPipelines(_req: ApiRequest, ctx: ApiContext): Promise<ApiResponse> {
  const pipelines = [...ctx.catalog.values()].map((p) => ({
    name: p.name,
    description: p.description,
    start: p.spec.start,
    stages: Object.keys(p.spec.stages),
    file: p.file,
  }));
  return { status: 200, body: { pipelines } };
}

export function catalogEntry(ctx: ApiContext, name: string): CatalogEntry {
  const entry = ctx.catalog.get(name);
  if (entry) return entry;
  const known = [...ctx.catalog.keys()];
  throw new ApiError(
    404,
    'UnknownPipeline',
    `No pipeline "${name}"${didYouMean(name, known)} Pipelines are: ${known.join(', ')} (GET /pipelines).`,
  );
}

/** A run name for a request without one: time plus a random suffix, so two requests never collide. */
function defaultRunName(): string {
  return `${timestampedRunName('api')}-${randomBytes(3).toString('hex')}`;
}

/** Items IDs name dead letters and outputs: two items with one ID in a run are a mistake to report. */
function checkUniqueIds(items: readonly { id: string }[], where: string): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const j = first.get(item.id);
    if (j !== undefined)
      throw new ApiError(
        400,
        'BadRequest',
        `${where}[${i}].id: "${item.id}" repeats ${where}[${j}].id; item IDs must be unique in a run.`,
      );
    first.set(item.id, i);
  });
}

async function sourceItems(ctx: ApiContext, requested: string): Promise<PipelineItem[]> {
  const target = await resolveUnderRoots('source.path', requested, ctx.config.api.inputRoots, ctx.baseDir);
  let items: PipelineItem[];
  try {
    items = await pipelineItemsFromPath(target);
  } catch (error) {
    // Items files are the caller's input: their problems (bad lines, bad IDs) are a 400.
    throw new ApiError(
      400,
      'BadSource',
      `source.path ${requested}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (items.length === 0)
    throw new ApiError(400, 'BadSource', `source.path ${requested} holds no items; add files or lines first.`);
  // The items travel in the run's input, and Temporal caps a payload at 2 MB.
  const bytes = Buffer.byteLength(JSON.stringify(items));
  if (bytes > maxBodyBytes)
    throw new ApiError(
      400,
      'BadSource',
      `source.path ${requested} holds ${items.length} items (${bytes} bytes as JSON), more than one run takes (${maxBodyBytes} bytes); split it into several sources.`,
    );
  return items;
}

export async function startRun(
  req: ApiRequest<{ pipeline: string }, StartRunRequest>,
  ctx: ApiContext,
): Promise<ApiResponse> {
  const entry = catalogEntry(ctx, req.params.pipeline);
  const body = req.body;
  if ((body.items === undefined) === (body.source === undefined)) {
    throw new ApiError(
      400,
      'BadRequest',
      'Send exactly one of "items" (e.g. [{"id": "u1", "data": {"optIn": true}}]) and "source" (e.g. {"path": "pipelines/items/signup-users.jsonl"}).',
    );
  }
  if (body.source && (body.source.path === undefined) === (body.source.uri === undefined)) {
    throw new ApiError(
      400,
      'BadSource',
      'Send exactly one of "source.path" (a folder or .jsonl file under an input root) and "source.uri" (e.g. "s3://media/photos/").',
    );
  }
  if (body.source?.uri !== undefined) return startReaderRun(ctx, entry, body.run, body.source.uri);
  const where = body.items ? 'items' : 'source items';
  const given = body.items ?? (await sourceItems(ctx, body.source!.path!));
  checkUniqueIds(given, where);
  const items = await withPathsUnderRoots(given, (i) => `${where}[${i}].`, ctx.config.api.inputRoots, ctx.baseDir);
  await confineBuildItems(entry.spec, items, (i) => `${where}[${i}].`); // ci-merge: allowlisted repositories, no command
  const runName = body.run ?? defaultRunName();
  const { handle, started } = await submitPipelineRun(
    ctx.client,
    ctx.config,
    entry.spec,
    { items: items.map((i) => ({ ...i, data: i.data ?? {} })) },
    { runName },
  );
  return { status: started ? 202 : 200, body: { ...runRef(ctx, handle.workflowId, started), items: items.length } };
}

/**
 * A run whose items the item reader reads from the object store in pages (never through this
 * request or the run's input): the URI is checked for shape here, and the reader refuses an
 * object outside the store with a dead letter-free failure at the run's start.
 */
async function startReaderRun(
  ctx: ApiContext,
  entry: ReturnType<typeof catalogEntry>,
  run: string | undefined,
  uri: string,
): Promise<ApiResponse> {
  let reader: ItemReaderSpec;
  try {
    reader = itemReaderOf(uri);
  } catch (error) {
    throw new ApiError(400, 'BadSource', `source.uri: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { handle, started } = await submitPipelineRun(
    ctx.client,
    ctx.config,
    entry.spec,
    { reader },
    { runName: run ?? defaultRunName() },
  );
  return {
    status: started ? 202 : 200,
    body: { ...runRef(ctx, handle.workflowId, started), items: 0, itemsFrom: uri },
  };
}
