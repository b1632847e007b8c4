import fs from 'node:fs/promises';
import type { BlobStore } from '../../runtime/blob-store';
import { writeAtomically } from '../fs/atomic-write';
import { blobFile, existingBlobFile } from './blob-input';
import { readRendition } from './read-back';
import type { TranscodeManifest, WriteManifestInput } from './types';

export interface WrittenManifest {
  uri: string;
  manifest: TranscodeManifest;
}

/**
 * Activity factory: `writeTranscodeManifest` ffprobes every rendition as written and records codec, size, duration
 * and bytes in `manifest.json` beside them (write-then-rename; the same renditions give the same file, so a retry
 * is harmless). A rendition missing by now was deleted under the run: non-retryable, run the upload again.
 */
export function writeManifestActivity(store: BlobStore) {
  return async function writeTranscodeManifest(input: WriteManifestInput): Promise<WrittenManifest> {
    const { upload, source } = input;
    const renditions = [];
    for (const { rendition, uri } of input.renditions) {
      const file = await existingBlobFile(
        store,
        uri,
        `Rendition ${rendition} of upload "${upload.name}"`,
        'Something removed it after it was rendered; run the upload again.',
      );
      renditions.push(await readRendition(file, rendition, uri));
    }
    const manifest: TranscodeManifest = {
      version: 1,
      source: { ...source, uri: upload.uri, sha256: upload.sha256, bytes: upload.bytes },
      renditions,
    };
    const file = blobFile(store, input.manifestUri, `Manifest of upload "${upload.name}"`);
    await writeAtomically(file, (tmp) => fs.writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`));
    return { uri: input.manifestUri, manifest };
  };
}
