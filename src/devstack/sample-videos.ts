import path from 'node:path';
import { writeAtomically, fileExists } from '../infra/atomic-write';
import { ffmpegFileArg, ffmpegPath, runMediaTool, stderrSummary } from '../activities/media/ffmpeg';

export interface SampleSpec {
  /** ffmpeg lavfi source (size, rate and duration are appended). */
  source: string;
  width: number;
  height: number;
  seconds: number;
  fps: number;
}

/** Small, varied test videos: landscape, square, portrait, HD and a tiny 4:3, all made from ffmpeg's test sources. */
const defaultSamples: SampleSpec[] = [
  { source: 'testsrc2', width: 640, height: 360, seconds: 3, fps: 15 },
  { source: 'smptebars', width: 480, height: 480, seconds: 2, fps: 10 },
  { source: 'mandelbrot', width: 360, height: 640, seconds: 3, fps: 10 },
  { source: 'testsrc', width: 1280, height: 720, seconds: 4, fps: 10 },
  { source: 'rgbtestsrc', width: 320, height: 240, seconds: 2, fps: 10 },
];

/** Deterministic file name of one sample, e.g. `sample-1-testsrc2-640x360.mp4`. */
function sampleName(spec: SampleSpec, index: number): string {
  return `sample-${index + 1}-${spec.source}-${spec.width}x${spec.height}.mp4`;
}

/**
 * Makes short H.264 MP4 sample videos in `dir` with ffmpeg's lavfi test sources (fast: ultrafast preset, low frame
 * rates) — the ~5 {@link defaultSamples} unless other `specs` are given — and returns their paths in a fixed order.
 * Files that already exist are kept, so calling it again is cheap; each file is written atomically, so an existing
 * one is always complete.
 */
export async function generateSampleVideos(
  dir: string,
  log: (line: string) => void,
  specs: SampleSpec[] = defaultSamples,
): Promise<string[]> {
  const paths: string[] = [];
  for (const [index, spec] of specs.entries()) {
    const file = path.join(path.resolve(dir), sampleName(spec, index));
    paths.push(file);
    if (await fileExists(file)) {
      log(`Sample ${path.basename(file)} exists, keeping it.`);
      continue;
    }
    const started = Date.now();
    await writeAtomically(file, async (tmp) => {
      const source = `${spec.source}=size=${spec.width}x${spec.height}:rate=${spec.fps}`;
      const args = [
        '-hide_banner',
        '-nostdin',
        '-nostats',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        source,
        '-t',
        String(spec.seconds),
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-pix_fmt',
        'yuv420p',
        '-g',
        String(spec.fps),
        '-movflags',
        '+faststart',
        '-an',
        '-f',
        'mp4',
        '-y',
        ffmpegFileArg(tmp),
      ];
      const result = await runMediaTool(ffmpegPath(), args, { timeoutMs: 120_000 });
      if (result.exitCode !== 0) {
        throw new Error(
          `ffmpeg could not generate ${path.basename(file)} (exit ${result.exitCode ?? result.exitSignal}): ${stderrSummary(result.stderr)}`,
        );
      }
    });
    log(
      `Generated ${path.basename(file)} (${spec.width}x${spec.height}, ${spec.seconds} s, ${spec.source}) in ${Date.now() - started} ms.`,
    );
  }
  return paths;
}
