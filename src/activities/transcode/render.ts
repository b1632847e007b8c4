import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { BlobStore } from '../../storage/blob-store';
import { withScratch } from '../../storage/scratch';
import { faultPoint } from '../fault-point';
import { configuredFfmpeg, ffmpegFileArg, stderrSummary } from '../media/ffmpeg';
import { invalidInput } from '../errors';
import { writeAtomically } from '../../infra/atomic-write';
import { undecodable } from '../media/extract-frame';
import { safeInputOptions } from '../media/safe-input';
import { blobCopy, checkedBlobUri } from './blob-input';
import { EncodePlan, encodePlan } from './encoding';
import { readRendition } from './read-back';
import { RENDITIONS, RenditionSpec } from './renditions';
import { legacyRenditionSize } from './renditions-legacy';
import type { RenderedRendition, RenderRenditionInput, RenditionFile, SourceVideo, Upload } from './types';

/** Runs one ffmpeg encode through fluent-ffmpeg; heartbeats its progress, and cancelling the activity kills it. */
function encode(sourceFile: string, plan: EncodePlan, outFile: string, what: string, ctx: Context): Promise<void> {
  return new Promise((resolve, reject) => {
    const command = configuredFfmpeg()(ffmpegFileArg(sourceFile))
      .inputOptions([...safeInputOptions(), ...plan.inputOptions])
      .outputOptions(plan.outputOptions)
      .output(ffmpegFileArg(outFile));
    const signal = ctx.cancellationSignal;
    const onAbort = () => command.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    command
      .on('progress', (p: { percent?: number }) => ctx.heartbeat({ rendition: what, percent: p.percent }))
      .on('end', () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      })
      .on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) return reject(signal.reason);
        const reason = stderrSummary(stderr ?? '') || err.message;
        // fluent-ffmpeg says "ffmpeg exited with code N" for ffmpeg's own verdict; a signal or a failed spawn is not one.
        if (/exited with code/.test(err.message) && undecodable(stderr)) {
          return reject(
            invalidInput(`Cannot render ${what}: ffmpeg cannot decode the video ("${reason}"). Check the file.`, {
              reason,
            }),
          );
        }
        reject(new Error(`ffmpeg failed rendering ${what}: ${reason}; will retry.`));
      })
      .run();
  });
}

/** Why `file` is not the rendition asked for, or undefined when it is (codec, exact size, duration within 10 %). */
function mismatch(file: RenditionFile, spec: RenditionSpec, size: Size, plan: EncodePlan): string | undefined {
  if (file.codec !== spec.codec) return `codec ${file.codec}, not ${spec.codec}`;
  if (file.width !== size.width || file.height !== size.height) {
    return `${file.width}x${file.height}, not ${size.width}x${size.height}`;
  }
  const expected = plan.expectedSeconds;
  if (expected !== undefined) {
    const seconds = file.durationSeconds ?? 0;
    if (Math.abs(seconds - expected) > Math.max(0.5, expected * 0.1)) return `${seconds} s long, not ${expected} s`;
  }
  return undefined;
}

export type Size = { width: number; height: number };

export interface RenderToBlob {
  upload: Upload;
  source: SourceVideo;
  spec: RenditionSpec;
  size: Size;
  /** Deterministic (see renditionUri), so a retry or another run of the same bytes finds it. */
  outputUri: string;
  /** Reach fault point `transcode-render-before-publish` (crash tests): set past a ladder's first rendition. */
  faultPoint?: boolean;
}

/** Where one render call works: its scratch folder and the upload's local copy in it. */
export interface RenderScratch {
  dir: string;
  sourceFile: string;
}

/** ffprobe's reading of the object at `uri` as it is stored (downloaded into scratch first on S3), or undefined. */
async function readStoredRendition(
  store: BlobStore,
  uri: string,
  spec: RenditionSpec,
  scratch: string,
): Promise<RenditionFile | undefined> {
  if (!(await store.head(uri))) return undefined;
  const file = await store.localCopy(uri, path.join(scratch, 'stored'));
  try {
    return await readRendition(file, spec.name, uri);
  } catch {
    return undefined;
  } finally {
    if (!store.isLocal) await fs.rm(file, { force: true });
  }
}

/**
 * Writes one rendition of an upload to its `outputUri`: ffmpeg (fluent-ffmpeg) reads the upload's scratch copy and
 * writes the rendition into scratch; ffprobe checks it there; then it is published once to its key (`ifAbsent`: on
 * S3 `If-None-Match: *`, a multipart stream above 16 MiB; the object appears only complete). Idempotent across
 * hosts: when a valid object (right codec, size and duration as ffprobe reads it) is there already — from an earlier
 * attempt on any host, or another run of the same bytes — it is kept and returned with `reused: true`; a retry never
 * makes a second one. An undecodable source fails non-retryably.
 */
export async function renderToBlob(
  store: BlobStore,
  input: RenderToBlob,
  ctx: Context,
  scratch: RenderScratch,
): Promise<RenderedRendition> {
  const { upload, source, spec, size } = input;
  const what = `${spec.label} of upload "${upload.name}"`;
  checkedBlobUri(store, input.outputUri, `Output of ${what}`);
  const plan = encodePlan(spec, size, source);

  const earlier = await readStoredRendition(store, input.outputUri, spec, scratch.dir);
  if (earlier && !mismatch(earlier, spec, size, plan)) return { ...earlier, reused: true };
  const stored = earlier !== undefined || (await store.head(input.outputUri)) !== undefined;

  const outFile = path.join(scratch.dir, 'out', spec.file);
  await fs.mkdir(path.dirname(outFile), { recursive: true });
  try {
    await writeAtomically(outFile, (tmp) => encode(scratch.sourceFile, plan, tmp, what, ctx));
    const written = await readRendition(outFile, spec.name, input.outputUri);
    const problem = mismatch(written, spec, size, plan);
    if (problem) throw new Error(`Rendered ${what}, but ffprobe reads ${problem}; will retry.`);
    // The crash tests stop a worker here: rendered in scratch, not yet in the store.
    if (input.faultPoint) await faultPoint('transcode-render-before-publish');
    // A stored object that is not this rendition (a damaged or foreign file) is replaced; otherwise written once.
    const put = await store.publish(outFile, input.outputUri, stored ? {} : { ifAbsent: true });
    return { ...written, bytes: put.bytes, reused: !put.created };
  } finally {
    await fs.rm(outFile, { force: true });
  }
}

/** The upload's content as a local file (a download into `dir` when it is in S3). */
export function uploadCopy(store: BlobStore, upload: Upload, dir: string): Promise<string> {
  return blobCopy(store, upload.uri, `Upload "${upload.name}"`, 'Upload the file again.', dir);
}

/**
 * Activity factory: `renderRendition`, one rendition per call, as the first transcode workflows (kept for their
 * recorded histories and runs in flight) call it: at the old ladder's size ({@link legacyRenditionSize}).
 */
export function renderActivity(store: BlobStore) {
  return async function renderRendition(input: RenderRenditionInput): Promise<RenderedRendition> {
    const spec = RENDITIONS[input.rendition];
    if (!spec) {
      throw invalidInput(
        `Unknown rendition ${JSON.stringify(input.rendition)}; use one of ${Object.keys(RENDITIONS).join(', ')}.`,
        { rendition: input.rendition },
      );
    }
    const { upload, source, outputUri } = input;
    const size = legacyRenditionSize(spec, source);
    return withScratch(async (dir) => {
      const sourceFile = await uploadCopy(store, upload, dir);
      return renderToBlob(store, { upload, source, spec, size, outputUri }, Context.current(), { dir, sourceFile });
    });
  };
}
