/**
 * The only folders a run may be pointed at from outside (BATCH_INPUT_ROOTS): the API's sources and
 * items, and the files of events that flows pick up (src/client/flow-subscribers.ts). A path is
 * resolved and its real path taken (symlinks followed) before it is compared with the roots' real
 * paths, so neither `..` nor a symlink leads outside them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * A path refused by the input roots: not a usable path, outside them, or missing. The API answers
 * it with a 400 of this kind; its message names the field and shows the path only as the caller
 * gave it, never what the server resolved it to.
 */
export class InputPathError extends Error {
  constructor(
    readonly kind: 'BadPath' | 'PathOutsideRoots' | 'PathNotFound',
    message: string,
  ) {
    super(message);
    this.name = 'InputPathError';
  }
}

/** Whether `candidate` is `root` or lies below it (lexically: both already resolved). */
export function insideRoot(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * The real path of `requested` (absolute, or relative to `base`) when it lies under one of
 * `roots`; an InputPathError naming `where` it was given and the allowed roots otherwise, also
 * when it does not exist.
 */
export async function resolveUnderRoots(
  where: string,
  requested: string,
  roots: readonly string[],
  base: string,
): Promise<string> {
  const allowed = `Paths must lie under ${roots.join(', ')} (BATCH_INPUT_ROOTS).`;
  // No file name holds a NUL, and the fs calls would refuse it with the resolved path.
  if (requested.includes('\0'))
    throw new InputPathError(
      'BadPath',
      `${where} ${JSON.stringify(requested)} contains a NUL character (\\u0000), which no file path can hold; send the path without it.`,
    );
  const resolved = path.resolve(base, requested);
  // A lexical check first, so a path outside is refused whether or not it exists.
  if (!roots.some((root) => insideRoot(root, resolved))) {
    throw new InputPathError('PathOutsideRoots', `${where} ${requested} is outside the input roots. ${allowed}`);
  }
  const real = await fs.realpath(resolved).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR')
      throw new InputPathError('PathNotFound', `${where} ${requested} does not exist; check the path. ${allowed}`);
    // A symlink loop, a name too long, a folder the server may not read: the path is unusable.
    const unusable: Record<string, string> = {
      ELOOP: 'goes round a loop of symlinks',
      ENAMETOOLONG: 'is too long for a file path',
      EACCES: 'cannot be read by the server',
      EPERM: 'cannot be read by the server',
    };
    if (error.code && unusable[error.code])
      throw new InputPathError('BadPath', `${where} ${requested} ${unusable[error.code]}; check the path. ${allowed}`);
    throw error;
  });
  const realRoots = await Promise.all(roots.map((root) => fs.realpath(root).catch(() => undefined)));
  if (!realRoots.some((root) => root !== undefined && insideRoot(root, real))) {
    throw new InputPathError(
      'PathOutsideRoots',
      `${where} ${requested} leads outside the input roots (through a symlink). ${allowed}`,
    );
  }
  return real;
}
