import fs from 'node:fs/promises';
import path from 'node:path';
import type { BlobStore } from '../../storage/blob-store';
import { withScratch } from '../../storage/scratch';
import { blobCopy, checkedBlobUri } from './blob-input';
import { readRendition } from './read-back';
import type { TranscodeManifest, WriteManifestInput } from './types';

export interface WrittenManifest {
  uri: string;
  manifest: TranscodeManifest;
}

/**
 * Activity factory: `writeTranscodeManifest` ffprobes every rendition as stored (a scratch copy of each, one at a
 * time, on S3) and records codec, size, duration and bytes in `manifest.json` beside them. The same renditions give
 * the same file (no timestamps), written whole to its key, so a retry on any host is harmless. A rendition missing
 * by now was deleted under the run: non-retryable, run the upload again.
 */
export function writeManifestActivity(store: BlobStore) {
  return async function writeTranscodeManifest(input: WriteManifestInput): Promise<WrittenManifest> {
    const { upload, source } = input;
    checkedBlobUri(store, input.manifestUri, `Manifest of upload "${upload.name}"`);
    return withScratch(async (scratch) => {
      const renditions = [];
      for (const { rendition, uri } of input.renditions) {
        const file = await blobCopy(
          store,
          uri,
          `Rendition ${rendition} of upload "${upload.name}"`,
          'Something removed it after it was rendered; run the upload again.',
          scratch,
        );
        renditions.push(await readRendition(file, rendition, uri));
        if (!store.isLocal) await fs.rm(file, { force: true });
      }
      const manifest: TranscodeManifest = {
        version: 1,
        source: { ...source, uri: upload.uri, sha256: upload.sha256, bytes: upload.bytes },
        renditions,
      };
      const file = path.join(scratch, 'manifest.json');
      await fs.writeFile(file, `${JSON.stringify(manifest, null, 2)}\n`);
      // Replaced whole rather than kept: its content follows the renditions, which a damaged one's retry replaces.
      await store.publish(file, input.manifestUri, {});
      return { uri: input.manifestUri, manifest };
    });
  };
}
