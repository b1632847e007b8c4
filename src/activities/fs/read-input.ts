import fs from 'node:fs/promises';
import type { ApplicationFailure } from '@temporalio/common';

/**
 * Reads a file an activity was handed. A missing path is bad input (retrying cannot help), so it
 * fails with the caller's non-retryable `whenMissing()`; other I/O errors stay retryable.
 */
export async function readInputFile(file: string, whenMissing: () => ApplicationFailure): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw whenMissing();
    throw err;
  }
}
