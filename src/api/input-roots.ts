/**
 * Items of API requests whose files must lie under the input roots (src/sources/input-roots.ts).
 */
import { resolveUnderRoots } from '../sources/input-roots';
import { ApiError } from './http';

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
