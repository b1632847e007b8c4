import path from 'node:path';

/** Folders the project owns, all relative to the repository root so every entry point agrees. */
export const repoRoot = path.resolve(__dirname, '..', '..');

/** Tools built or fetched by the setup step (Temporal CLI, Java test server); git-ignored, reused. */
export const toolsDir = path.join(repoRoot, '.tools');

/** Runtime state of the embedded stack (SQLite history, outputs, samples); git-ignored. */
export const dataDir = process.env.BATCH_DATA_DIR
  ? path.resolve(process.env.BATCH_DATA_DIR)
  : path.join(repoRoot, '.data');

/** Build artefacts such as the prebuilt workflow bundle; git-ignored. */
export const buildDir = path.join(repoRoot, '.build');

/** A path as a person reads it: relative to the current folder when inside it, else absolute. */
export function displayPath(p: string): string {
  // An object-store URI (s3://bucket/key) is not a path: as it is.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) return p;
  const relative = path.relative(process.cwd(), p);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(p) : relative;
}
