import { Context } from '@temporalio/activity';
import type { BlobStore } from '../../runtime/blob-store';
import { configuredFfmpeg, ffmpegFileArg, stderrSummary } from '../../runtime/tools/ffmpeg';
import { invalidInput } from '../errors';
import { fileExists, writeAtomically } from '../fs/atomic-write';
import { undecodableHints } from '../media/extract-frame';
import { safeInputOptions } from '../media/safe-input';
import { blobFile, existingBlobFile } from './blob-input';
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
        if (undecodableHints.some((hint) => stderr?.includes(hint))) {
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
}

/**
 * Writes one rendition of an upload to its `outputUri` with fluent-ffmpeg (to a temporary file, renamed when
 * complete). Idempotent: when a valid file (right codec, size and duration as ffprobe reads it) is there already —
 * from an earlier attempt, or another run of the same bytes — it is kept and returned with `reused: true`. An
 * undecodable source fails non-retryably.
 */
export async function renderToBlob(store: BlobStore, input: RenderToBlob, ctx: Context): Promise<RenderedRendition> {
  const { upload, source, spec, size } = input;
  const what = `${spec.label} of upload "${upload.name}"`;
  const sourceFile = await existingBlobFile(store, upload.uri, `Upload "${upload.name}"`, 'Upload the file again.');
  const outFile = blobFile(store, input.outputUri, `Output of ${what}`);
  const plan = encodePlan(spec, size, source);

  if (await fileExists(outFile)) {
    const earlier = await readRendition(outFile, spec.name, input.outputUri).catch(() => undefined);
    if (earlier && !mismatch(earlier, spec, size, plan)) return { ...earlier, reused: true };
  }
  await writeAtomically(outFile, (tmp) => encode(sourceFile, plan, tmp, what, ctx));
  const written = await readRendition(outFile, spec.name, input.outputUri);
  const problem = mismatch(written, spec, size, plan);
  if (problem) throw new Error(`Rendered ${what} to ${outFile}, but ffprobe reads ${problem}; will retry.`);
  return { ...written, reused: false };
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
    return renderToBlob(store, { upload, source, spec, size, outputUri }, Context.current());
  };
}
