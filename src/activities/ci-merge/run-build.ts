/**
 * Runs a build command through the shell in a checked-out commit, inside its sandbox
 * (src/activities/ci-merge/build-sandbox.ts: minimal environment, build user, PID namespace or process
 * group). stdout and stderr are captured together and capped to their last bytes (where a failing
 * test says why). The exit status is returned whatever it is: a failing build is a result, not an
 * error.
 *
 * Nothing the build started outlives it: when its shell exits, times out or is cancelled, every
 * process of the sandbox is killed. The result never waits on the output pipes for longer than a
 * short grace after that (a process we could not see may still hold them): the streams are then
 * destroyed, so a timeout is a hard deadline.
 */
import { spawn } from 'node:child_process';
import { BuildSandbox, buildEnvironment, killMarkedProcesses, newBuildMarker, sandboxedArgv } from './build-sandbox';

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
  sandbox: BuildSandbox;
  outputCapBytes?: number;
  /** How long to wait for the output pipes once the build is over (default 2 s). */
  graceMs?: number;
}

const defaultCap = 1024 * 1024;
/** setTimeout's limit: a longer delay fires at once (Node says TimeoutOverflowWarning). */
export const maxTimeoutMs = 2 ** 31 - 1;

export function runBuildCommand(command: string, options: BuildRunOptions): Promise<BuildRun> {
  if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs >= 1 && options.timeoutMs <= maxTimeoutMs)) {
    throw new RangeError(
      `A build timeout of ${options.timeoutMs} ms cannot be waited for: it must be from 1 ms to ${maxTimeoutMs} ms (about 24.8 days).`,
    );
  }
  const cap = options.outputCapBytes ?? defaultCap;
  const graceMs = options.graceMs ?? 2000;
  const started = Date.now();
  const marker = newBuildMarker();
  const [program, ...args] = sandboxedArgv(command, options.sandbox);
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      // Its own session and process group; with a PID namespace, the namespace's root is in it too.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: buildEnvironment(options.sandbox, marker),
    });
    const chunks: Buffer[] = [];
    let kept = 0;
    let dropped = 0;
    let timedOut = false;
    let exitCode: number | null = null;
    let finished = false;
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

    const killAll = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      return killMarkedProcesses(marker).catch(() => 0);
    };
    const closed = (stream: NodeJS.ReadableStream & { closed: boolean }) =>
      stream.closed ? Promise.resolve() : new Promise<void>((done) => stream.once('close', () => done()));
    const finish = async () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', stop);
      await killAll();
      // Output still in the pipes arrives now; a holder we could not kill does not hold us up.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([closed(child.stdout), closed(child.stderr)]),
        new Promise((done) => (grace = setTimeout(done, graceMs))),
      ]);
      clearTimeout(grace);
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
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
    };
    // Timeout or cancellation: kill, then finish when the shell is reaped — or after the grace
    // at the latest (a process stuck in the kernel is not waited for).
    const stop = () => {
      void killAll();
      setTimeout(() => void finish(), graceMs).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs);
    options.signal.addEventListener('abort', stop, { once: true });
    if (options.signal.aborted) stop();
    child.on('error', (error) => {
      finished = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', stop);
      const hint = program === '/bin/sh' ? '' : ` (${program} is part of util-linux: install it)`;
      reject(new Error(`Could not start the build command with ${program}: ${error.message}${hint}.`));
    });
    child.on('exit', (code) => {
      exitCode = code;
      void finish();
    });
  });
}
