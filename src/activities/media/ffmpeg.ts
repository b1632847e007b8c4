import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { findOnPath, isExecutableFile } from '../../infra/exec';

/**
 * Locating ffmpeg / ffprobe. Order: the FFMPEG_PATH / FFPROBE_PATH environment variables, then `ffmpeg` / `ffprobe`
 * on PATH (Debian's package, which set-up installs when it can: ./ffmpeg-install.ts), and only as a fallback the
 * old static binaries shipped inside the @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe npm packages (made
 * executable here, because installs that skip lifecycle scripts leave them without the x bit).
 */

type Tool = 'ffmpeg' | 'ffprobe';

const envVar: Record<Tool, string> = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' };
const installerPackage: Record<Tool, string> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};

/** Makes sure every execute bit is set (owner, group, others); npm without lifecycle scripts may leave some unset. */
function ensureExecutable(p: string): void {
  const mode = fs.statSync(p).mode;
  if ((mode & 0o111) === 0o111) return;
  try {
    fs.chmodSync(p, mode | 0o111);
  } catch (err) {
    if (!isExecutableFile(p)) {
      throw new Error(
        `${p} is not executable and could not be made executable (${(err as Error).message}); run \`chmod +x ${p}\`.`,
      );
    }
  }
}

const resolved = new Map<string, string>();

function resolveTool(tool: Tool): string {
  const fromEnv = process.env[envVar[tool]];
  if (fromEnv) {
    const p = path.resolve(fromEnv);
    if (!isExecutableFile(p)) {
      throw new Error(`${envVar[tool]}=${fromEnv} does not point to an executable file; fix or unset it.`);
    }
    return p;
  }
  const onPath = findOnPath(tool);
  if (onPath) return onPath;

  const cached = resolved.get(tool);
  if (cached) return cached;
  let installed: string;
  try {
    installed = (require(installerPackage[tool]) as { path: string }).path;
  } catch (err) {
    throw new Error(
      `${tool} was not found: ${envVar[tool]} is not set, there is no \`${tool}\` on PATH, and the ${installerPackage[tool]} ` +
        `package has no binary for ${process.platform}-${process.arch} (${err instanceof Error ? err.message : String(err)}). ` +
        `Install ffmpeg (e.g. \`apt-get install ffmpeg\`) or set ${envVar[tool]}.`,
    );
  }
  ensureExecutable(installed);
  resolved.set(tool, installed);
  return installed;
}

/** Path of the ffmpeg executable (FFMPEG_PATH, then PATH, then @ffmpeg-installer/ffmpeg). */
export function ffmpegPath(): string {
  return resolveTool('ffmpeg');
}

/** Path of the ffprobe executable (FFPROBE_PATH, then PATH, then @ffprobe-installer/ffprobe). */
export function ffprobePath(): string {
  return resolveTool('ffprobe');
}

let fluentConfigured = false;

/** fluent-ffmpeg with its ffmpeg/ffprobe paths set (once per process) to the binaries resolved above. */
export function configuredFfmpeg(): typeof ffmpeg {
  if (!fluentConfigured) {
    ffmpeg.setFfmpegPath(ffmpegPath());
    ffmpeg.setFfprobePath(ffprobePath());
    fluentConfigured = true;
  }
  return ffmpeg;
}

/** Prefixes a local path with `file:` so ffmpeg never reads it as a protocol (`http:`, `concat:`) or an option (`-x`). */
export function ffmpegFileArg(p: string): string {
  return `file:${path.resolve(p)}`;
}

export interface ToolRunOptions {
  /** Aborting kills the child (SIGKILL) and rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Called right after start and then every `tickMs` while the child runs (e.g. to heartbeat). */
  onTick?: () => void;
  tickMs?: number;
  /** Kills the child and rejects with a {@link MediaToolLimitError} when it runs longer than this. */
  timeoutMs?: number;
}

export interface ToolRunResult {
  exitCode: number | null;
  /** Set when the child was ended by a signal nobody here sent (e.g. the OOM killer). */
  exitSignal: NodeJS.Signals | null;
  stdout: string;
  /** The last 64 KiB of stderr. */
  stderr: string;
}

/** A run stopped because it went over a limit of {@link ToolRunOptions} (time) or of output size. */
export class MediaToolLimitError extends Error {
  override name = 'MediaToolLimitError';
  constructor(
    message: string,
    readonly limit: 'time' | 'output',
  ) {
    super(message);
  }
}

/** Signals that mean the program crashed (on its input), as opposed to being killed from outside. */
export const crashSignals: readonly string[] = [
  'SIGSEGV',
  'SIGBUS',
  'SIGABRT',
  'SIGFPE',
  'SIGILL',
  'SIGTRAP',
  'SIGSYS',
];

const stderrKeep = 64 * 1024;
const stdoutMax = 64 * 1024 * 1024;

/**
 * Runs ffmpeg/ffprobe (or any program) without a shell. Resolves with the exit status whatever it is, so callers
 * decide what a failure means; rejects only when the program cannot start, is aborted, times out or floods stdout.
 */
export function runMediaTool(program: string, args: string[], options: ToolRunOptions = {}): Promise<ToolRunResult> {
  const { signal, onTick, tickMs = 5000, timeoutMs } = options;
  return new Promise<ToolRunResult>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new Error('aborted'));
      return;
    }
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let settled = false;
    let failure: unknown;
    let ticker: NodeJS.Timeout | undefined;
    let timer: NodeJS.Timeout | undefined;

    const cleanup = () => {
      if (ticker) clearInterval(ticker);
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const kill = (why: unknown) => {
      if (failure === undefined) failure = why;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    function onAbort() {
      kill(signal?.reason ?? new Error('aborted'));
    }

    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > stdoutMax)
        kill(
          new MediaToolLimitError(`${path.basename(program)} wrote more than ${stdoutMax} bytes to stdout`, 'output'),
        );
      else stdout.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 2 * stderrKeep) stderr = stderr.slice(-stderrKeep);
    });
    child.on('error', (err) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(
        new Error(
          `Could not run ${program}: ${err.message}. Install ffmpeg or point FFMPEG_PATH / FFPROBE_PATH at working binaries.`,
        ),
      );
    });
    child.on('close', (exitCode, exitSignal) => {
      if (settled) return;
      settled = true;
      cleanup();
      if (failure !== undefined) {
        reject(failure);
        return;
      }
      resolve({
        exitCode,
        exitSignal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: stderr.slice(-stderrKeep),
      });
    });

    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(
        () =>
          kill(
            new MediaToolLimitError(
              `${path.basename(program)} did not finish within ${Math.round(timeoutMs / 1000)} s and was killed`,
              'time',
            ),
          ),
        timeoutMs,
      );
    }
    if (onTick) {
      const tick = () => {
        try {
          onTick();
        } catch (err) {
          kill(err);
        }
      };
      tick();
      ticker = setInterval(tick, Math.max(50, tickMs));
    }
  });
}

/** Last meaningful lines of a tool's stderr, one line, for error messages. */
export function stderrSummary(stderr: string, maxChars = 400): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const text = lines.slice(-3).join(' | ');
  return text.length > maxChars ? `…${text.slice(-maxChars)}` : text;
}
