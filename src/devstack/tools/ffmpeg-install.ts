import { spawnSync } from 'node:child_process';
import { findOnPath, programExists, runProgram } from '../../infra/exec';
import { ffmpegPath, ffprobePath } from '../../activities/media/ffmpeg';

/**
 * Set-up's part for ffmpeg: a maintained ffmpeg, not the unmaintained static builds of the npm packages (2018's
 * ffmpeg has known demuxer crashes). Order, the same as {@link ffmpegPath} uses at run time:
 *   1. FFMPEG_PATH / FFPROBE_PATH when set;
 *   2. `ffmpeg` / `ffprobe` on PATH (Debian's package once installed);
 *   3. when neither is on PATH and set-up runs as root with apt-get: Debian's `ffmpeg` package is installed;
 *   4. otherwise the static binaries of @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe, with a warning
 *      saying what to install.
 */

const packageName = 'ffmpeg';

export interface FfmpegTools {
  ffmpeg: string;
  ffprobe: string;
  /** First line of `ffmpeg -version` / `ffprobe -version`. */
  ffmpegVersion: string;
  ffprobeVersion: string;
}

/** First line of `<program> -version`, or why it could not be read. */
export function versionLine(program: string): string {
  const result = spawnSync(program, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 30_000 });
  if (result.error || result.status !== 0) {
    return `unknown (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`;
  }
  return result.stdout.split('\n')[0].trim();
}

function configuredByEnv(): boolean {
  return Boolean(process.env.FFMPEG_PATH || process.env.FFPROBE_PATH);
}

async function installWithApt(log: (line: string) => void): Promise<void> {
  const started = Date.now();
  log(`ffmpeg not on PATH; installing Debian's ${packageName} package with apt-get (once, a minute or two)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Waits for another apt/dpkg (e.g. set-up installing Chromium in a second terminal) instead of failing at once.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  await runProgram('apt-get', [...lock, 'update'], { env });
  await runProgram('apt-get', [...lock, 'install', '-y', '--no-install-recommends', packageName], { env });
  log(`ffmpeg installed in ${Math.round((Date.now() - started) / 1000)} s.`);
}

/** Makes sure a maintained ffmpeg is there when it can be (see the order above) and returns what will be used. */
export async function ensureFfmpeg(log: (line: string) => void): Promise<FfmpegTools> {
  const onPath = Boolean(findOnPath('ffmpeg') && findOnPath('ffprobe'));
  if (!configuredByEnv() && !onPath) {
    const isRoot = process.getuid?.() === 0;
    if (isRoot && programExists('apt-get', '--version')) {
      try {
        await installWithApt(log);
      } catch (err) {
        log(
          `WARNING: installing Debian's ffmpeg failed (${(err as Error).message.split('\n')[0]}); ` +
            'falling back to the static binaries of the npm packages.',
        );
      }
    }
    if (!findOnPath('ffmpeg') || !findOnPath('ffprobe')) {
      log(
        'WARNING: no ffmpeg on PATH; using the static binaries of the @ffmpeg-installer / @ffprobe-installer npm ' +
          'packages, which are old and unmaintained. Install a maintained ffmpeg (`sudo apt-get install -y ffmpeg`, ' +
          "or your system's package) or set FFMPEG_PATH and FFPROBE_PATH.",
      );
    }
  }
  const ffmpeg = ffmpegPath();
  const ffprobe = ffprobePath();
  const tools = { ffmpeg, ffprobe, ffmpegVersion: versionLine(ffmpeg), ffprobeVersion: versionLine(ffprobe) };
  log(`ffmpeg: ${tools.ffmpeg} (${tools.ffmpegVersion})`);
  log(`ffprobe: ${tools.ffprobe} (${tools.ffprobeVersion})`);
  return tools;
}
