/**
 * Runs a build command through the shell in a checked-out commit: its own process group (so a
 * timeout or a cancellation kills the command and everything it started), stdout and stderr
 * captured together and capped to their last bytes (where a failing test says why). The exit
 * status is returned whatever it is: a failing build is a result, not an error.
 */
import { spawn } from 'node:child_process';

export interface BuildRun {
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** The last `outputCapBytes` of the output, with a note of how much was left out before it. */
  output: string;
}

export interface BuildRunOptions {
  cwd: string;
  timeoutMs: number;
  /** Aborting (activity cancelled) kills the command; the caller then throws. */
  signal: AbortSignal;
  outputCapBytes?: number;
}

const defaultCap = 1024 * 1024;

export function runBuildCommand(command: string, options: BuildRunOptions): Promise<BuildRun> {
  const cap = options.outputCapBytes ?? defaultCap;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, {
      shell: true,
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true' },
    });
    const chunks: Buffer[] = [];
    let kept = 0;
    let dropped = 0;
    let timedOut = false;
    const keep = (chunk: Buffer) => {
      chunks.push(chunk);
      kept += chunk.length;
      while (kept - chunks[0].length >= cap) {
        kept -= chunks[0].length;
        dropped += chunks.shift()!.length;
      }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    options.signal.addEventListener('abort', killGroup, { once: true });
    const done = () => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', killGroup);
    };
    child.on('error', (error) => {
      done();
      reject(new Error(`Could not start the shell for the build command: ${error.message}`));
    });
    child.on('close', (exitCode) => {
      done();
      let output = Buffer.concat(chunks);
      if (output.length > cap) {
        dropped += output.length - cap;
        output = output.subarray(output.length - cap);
      }
      resolve({
        exitCode: timedOut ? null : exitCode,
        timedOut,
        durationMs: Date.now() - started,
        output:
          (dropped > 0 ? `[… the first ${dropped} bytes of output were left out …]\n` : '') + output.toString('utf8'),
      });
    });
  });
}
