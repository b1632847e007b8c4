import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * A stable, filesystem- and workflow-ID-safe item ID for a file: a readable slug of its name plus
 * a short hash of its absolute path, so two `clip.mp4` in different folders never collide and
 * the same file always maps to the same outputs. `version` (e.g. size and mtime) goes into the
 * hash when each version of a file needs its own ID (the inbox watcher's event IDs).
 */
export function itemIdForPath(filePath: string, version?: string): string {
  const absolute = path.resolve(filePath);
  const slug =
    path
      .basename(absolute)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48) || 'item';
  const hash = createHash('sha256')
    .update(version === undefined ? absolute : `${absolute}\0${version}`)
    .digest('hex')
    .slice(0, 8);
  return `${slug}-${hash}`;
}

/** Checks an ID given by a person (e.g. in a manifest) is usable as a folder and ID part. */
export function validateItemId(id: string, where: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id)) {
    throw new Error(
      `${where}: item id "${id}" is not usable; use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
    );
  }
  return id;
}

/**
 * The item ID of an object named by a URI: for a local path the same as {@link itemIdForPath}
 * (a folder's files keep their IDs on the local backend); for `s3://bucket/key` a slug of the
 * key's last name plus a short hash of the whole URI.
 */
export function itemIdForUri(uri: string): string {
  if (!uri.startsWith('s3://')) return itemIdForPath(uri);
  const name = uri.slice(uri.lastIndexOf('/') + 1);
  const slug =
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48) || 'item';
  return `${slug}-${createHash('sha256').update(uri).digest('hex').slice(0, 8)}`;
}
