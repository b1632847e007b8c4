/**
 * `npm start` as a child process, for the end-to-end suites (start.e2e, storage-stack,
 * kafka-start.e2e): run it with private ports, act while the stack stays up, send Ctrl-C, and
 * check that nothing it started is left.
 */
import { execFileSync, spawn } from 'node:child_process';
import { repoRoot } from '../../src/infra/paths';
import { freePort } from '../../src/infra/wait';

export interface StartRun {
  code: number | null;
  output: string;
}

/**
 * Runs the start CLI; with `whileUp`, calls it once the stack says it stays up, then sends Ctrl-C.
 * A failure inside `whileUp` is appended to the output as `[test] …` (the caller asserts on it).
 */
export function runStart(
  args: string[],
  env: NodeJS.ProcessEnv,
  whileUp?: (output: () => string) => Promise<void>,
): Promise<StartRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/cli/start.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (whileUp && /press Ctrl-C/.test(output)) {
        const check = whileUp;
        whileUp = undefined;
        void check(() => output)
          .catch((error: Error) => (output += `\n[test] ${error.stack ?? error.message}\n`))
          .finally(() => child.kill('SIGINT'));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** Processes whose command line mentions `marker` (a private data folder, a server's config file). */
export function processesMentioning(marker: string): { pid: number; line: string }[] {
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps
    .split('\n')
    .filter((line) => line.includes(marker) && !line.includes('ps -eo'))
    .map((line) => ({ pid: Number(line.trim().split(/\s+/)[0]), line: line.trim() }));
}

/** The environment of a private stack: its data folder and a free port for every service, plus `extraPorts`. */
export async function privateStackEnv(dataDir: string, extraPorts: string[] = []): Promise<Record<string, string>> {
  const env: Record<string, string> = { BATCH_DATA_DIR: dataDir };
  const names = [
    'TEMPORAL_DEV_PORT',
    'TEMPORAL_UI_PORT',
    'BATCH_API_PORT',
    'BATCH_API_METRICS_PORT',
    'BATCH_SMTP_PORT',
    'BATCH_MAIL_UI_PORT',
  ];
  for (const name of [...names, ...extraPorts]) env[name] = String(await freePort());
  return env;
}
