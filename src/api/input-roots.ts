/**
 * Items of API requests whose files must lie under the input roots (src/sources/input-roots.ts),
 * and items of build pipelines, which must stay within the server's CI settings.
 */
import { buildsCommits, refusedBuildItem } from '../activities/ci-merge/build-requests';
import type { PipelineSpec } from '../pipelines/spec';
import { resolveUnderRoots } from '../sources/input-roots';
import { ApiError } from './errors';

/**
 * Items whose `data.path` (a file an activity will open: media travel by path) lies under the
 * roots, with that path made real; a 400 naming the item otherwise. `place(i)` is where item i
 * is in the request, e.g. `items[2].` (or '' for an event's own data).
 */
export async function withPathsUnderRoots<T extends { data?: Record<string, unknown> }>(
  items: T[],
  place: (i: number) => string,
  roots: readonly string[],
  base: string,
): Promise<T[]> {
  return Promise.all(
    items.map(async (item, i) => {
      const file = item.data?.path;
      if (file === undefined) return item;
      if (typeof file !== 'string')
        throw new ApiError(
          400,
          'BadRequest',
          `${place(i)}data.path must be a string (a file path), not ${typeof file}.`,
        );
      const real = await resolveUnderRoots(`${place(i)}data.path`, file, roots, base);
      return { ...item, data: { ...item.data, path: real } };
    }),
  );
}

/**
 * Items of a run of a pipeline that builds commits (ci-merge): only repositories on the server's
 * allowlist, no build command, no builds folder (src/activities/ci-merge/build-requests.ts); a 400
 * naming the item and saying how to allow it otherwise. Other pipelines' items pass unchanged.
 */
export async function confineBuildItems<T extends { data?: Record<string, unknown> }>(
  spec: PipelineSpec,
  items: T[],
  place: (i: number) => string,
): Promise<T[]> {
  if (!buildsCommits(spec)) return items;
  for (const [i, item] of items.entries()) {
    const refused = await refusedBuildItem(item.data, place(i));
    if (refused) throw new ApiError(400, 'BadRequest', refused);
  }
  return items;
}
