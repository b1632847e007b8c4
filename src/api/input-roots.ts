/**
 * The only folders an API caller may point a run at (BATCH_INPUT_ROOTS). A path is resolved and
 * its real path taken (symlinks followed) before it is compared with the roots' real paths, so
 * neither `..` nor a symlink leads outside them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApiError } from './http';

function inside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * The real path of `requested` (absolute, or relative to `base`) when it lies under one of
 * `roots`; a 400 naming `where` it was given and the allowed roots otherwise, also when it does
 * not exist.
 */
export async function resolveUnderRoots(
  where: string,
  requested: string,
  roots: readonly string[],
  base: string,
): Promise<string> {
  const allowed = `Paths must lie under ${roots.join(', ')} (BATCH_INPUT_ROOTS).`;
  const resolved = path.resolve(base, requested);
  // A lexical check first, so a path outside is refused whether or not it exists.
  if (!roots.some((root) => inside(root, resolved))) {
    throw new ApiError(400, 'PathOutsideRoots', `${where} ${requested} is outside the input roots. ${allowed}`);
  }
  const real = await fs.realpath(resolved).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR')
      throw new ApiError(400, 'PathNotFound', `${where} ${requested} does not exist; check the path. ${allowed}`);
    throw error;
  });
  const realRoots = await Promise.all(roots.map((root) => fs.realpath(root).catch(() => undefined)));
  if (!realRoots.some((root) => root !== undefined && inside(root, real))) {
    throw new ApiError(
      400,
      'PathOutsideRoots',
      `${where} ${requested} leads outside the input roots (through a symlink). ${allowed}`,
    );
  }
  return real;
}

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
