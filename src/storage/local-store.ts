/**
 * The local-folder backend: key `a/b/c` is the file `<root>/a/b/c`, a URI is the file's absolute
 * path (what flows have always passed around on one host). Writes go to a hidden temporary beside
 * the target and are renamed (or hard-linked, for `ifAbsent`), so a reader never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { writeAtomically } from '../infra/atomic-write';
import type { ListPage, ObjectStore, PutOptions, PutResult, StoredObject } from './object-store';
import { checkKey, ObjectMissingError, StorageConfigError, StorageUriError } from './object-store';

export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.description = `folder ${this.root}`;
  }

  uriOf(key: string): string {
    return path.join(this.root, ...checkKey(key).split('/'));
  }

  owns(uri: string): boolean {
    if (typeof uri !== 'string' || !path.isAbsolute(uri)) return false;
    const relative = path.relative(this.root, path.resolve(uri));
    return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  }

  keyOf(uri: string): string {
    if (!this.owns(uri)) throw new StorageUriError(`${JSON.stringify(uri)} is not a file under ${this.root}.`);
    return checkKey(path.relative(this.root, path.resolve(uri)).split(path.sep).join('/'));
  }

  async putFile(key: string, file: string, options: PutOptions = {}): Promise<PutResult> {
    return this.write(key, options, (tmp) => fs.copyFile(file, tmp));
  }

  async putBytes(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    return this.write(key, options, (tmp) => fs.writeFile(tmp, body));
  }

  private async write(key: string, options: PutOptions, produce: (tmp: string) => Promise<void>): Promise<PutResult> {
    const target = this.uriOf(key);
    let created = true;
    if (options.ifAbsent) {
      if (await this.head(key)) created = false;
      else {
        // The temporary is linked to the final name: link() fails when the name exists, so of two
        // writers exactly one creates the object and the other keeps it.
        const pending = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.pending`;
        await writeAtomically(pending, produce);
        try {
          await fs.link(pending, target);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          created = false;
        } finally {
          await fs.rm(pending, { force: true });
        }
      }
    } else {
      await writeAtomically(target, produce);
    }
    const info = await this.head(key);
    if (!info) throw new Error(`Writing ${target} finished but the file is missing.`);
    return { ...info, created };
  }

  async getBytes(key: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.uriOf(key));
    } catch (err) {
      if (['ENOENT', 'EISDIR', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
      throw err;
    }
  }

  async download(key: string, file: string): Promise<StoredObject> {
    const info = await this.head(key);
    if (!info) throw new ObjectMissingError(this.uriOf(key));
    await writeAtomically(file, (tmp) => fs.copyFile(info.uri, tmp));
    return info;
  }

  async openRead(key: string, options: { start?: number } = {}): Promise<Readable> {
    const info = await this.head(key);
    if (!info) throw new ObjectMissingError(this.uriOf(key));
    return createReadStream(info.uri, { start: options.start });
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const uri = this.uriOf(key);
    const stat = await fs.stat(uri).catch(() => undefined);
    if (!stat?.isFile()) return undefined;
    return { key, uri, bytes: stat.size, etag: `${stat.size}-${Math.trunc(stat.mtimeMs)}` };
  }

  async list(prefix: string, options: { after?: string; limit?: number } = {}): Promise<ListPage> {
    const limit = options.limit ?? 1000;
    // The folder the prefix names or lies in; keys are compared as strings, like S3's listing order.
    const cut = prefix.lastIndexOf('/');
    const base = cut < 0 ? '' : prefix.slice(0, cut);
    const keys: string[] = [];
    await this.walk(base, async (key) => {
      if (key.startsWith(prefix) && (options.after === undefined || key > options.after)) keys.push(key);
    });
    keys.sort();
    const page = keys.slice(0, limit);
    const objects = (await Promise.all(page.map((k) => this.head(k)))).filter((o): o is StoredObject => !!o);
    return { objects, next: keys.length > limit ? page[page.length - 1] : undefined };
  }

  private async walk(dirKey: string, visit: (key: string) => Promise<void>): Promise<void> {
    const dir = dirKey === '' ? this.root : this.uriOf(dirKey);
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      // Hidden names are temporaries of writes in progress (and never valid keys of ours to read).
      if (entry.name.startsWith('.') || entry.name.endsWith('.pending')) continue;
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (entry.isDirectory()) await this.walk(key, visit);
      else if (entry.isFile()) await visit(key);
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.uriOf(key), { force: true });
  }

  async check(): Promise<void> {
    try {
      await fs.mkdir(this.root, { recursive: true });
      await fs.access(this.root, fs.constants.W_OK);
    } catch (err) {
      throw new StorageConfigError(
        `The data folder ${this.root} cannot be written (${(err as Error).message}). ` +
          'Point BATCH_DATA_DIR at a writable folder.',
      );
    }
  }
}
