import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths';

/**
 * Child processes the embedded stack starts (dev server, workers). Each runs in its own process
 * group so stopping it also stops anything it started; every one is stopped when we exit, so
 * Ctrl-C leaves no orphans.
 */
export class ManagedProcess {
  readonly exited: Promise<number | null>;
  private stopping = false;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? null : 0))));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** How it ended, for a person: `code 1`, `signal SIGKILL` (undefined while running). */
  get exitDescription(): string | undefined {
    if (this.child.signalCode) return `signal ${this.child.signalCode}`;
    if (this.child.exitCode !== null) return `code ${this.child.exitCode}`;
    return undefined;
  }

  /** After it exited: SIGKILL whatever it started that is still in its process group. */
  killLeftovers(): void {
    if (this.running || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // No process left in the group.
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // Already gone.
    }
  }

  /** Kills at once, as a crash would (fault tests). */
  kill(): void {
    this.signalGroup('SIGKILL');
  }

  /** Asks politely (SIGTERM), then kills after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopping || !this.running) return void (await this.exited);
    this.stopping = true;
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

const live = new Set<ManagedProcess>();

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Where stdout and stderr go: a log file path, or 'inherit' to show them. */
  output: string | 'inherit';
  /**
   * A TypeScript process stops itself once this process is gone, even after a SIGKILL that runs
   * no clean-up here (src/infra/exit-with-parent.ts). For worker processes; startTsProcess only.
   */
  exitWithParent?: boolean;
}

export function startProcess(name: string, program: string, args: string[], options: StartOptions): ManagedProcess {
  let stdio: ('ignore' | 'inherit' | number)[];
  if (options.output === 'inherit') {
    stdio = ['ignore', 'inherit', 'inherit'];
  } else {
    fs.mkdirSync(path.dirname(options.output), { recursive: true });
    const fd = fs.openSync(options.output, 'a');
    stdio = ['ignore', fd, fd];
  }
  const child = spawn(program, args, { env: options.env ?? process.env, stdio, detached: true, cwd: repoRoot });
  const managed = new ManagedProcess(name, child);
  live.add(managed);
  void managed.exited.then(() => live.delete(managed));
  return managed;
}

/** This code runs compiled (`npm run build`: dist/…js, no tsx in a production install), not from src/ under tsx. */
const compiled = path.extname(__filename) === '.js';

/** `src/x/y.ts` as this process runs it: itself under tsx, or `dist/x/y.js` when compiled. */
function runnableEntry(entry: string): string {
  const source = path.resolve(repoRoot, entry);
  if (!compiled) return source;
  const relative = path.relative(path.join(repoRoot, 'src'), source).replace(/\.ts$/, '.js');
  return path.join(__dirname, '..', relative);
}

/** Runs a TypeScript entry point of this project (`src/….ts`) in a fresh Node process; its compiled file when this runs from dist/. */
export function startTsProcess(name: string, entry: string, args: string[], options: StartOptions): ManagedProcess {
  const watchParent = options.exitWithParent
    ? ['--require', runnableEntry(path.join('src', 'infra', 'exit-with-parent.ts'))]
    : [];
  const env = options.exitWithParent
    ? { ...(options.env ?? process.env), BATCH_PARENT_PID: String(process.pid) }
    : options.env;
  return startProcess(
    name,
    process.execPath,
    [...(compiled ? [] : ['--require', 'tsx/cjs']), ...watchParent, runnableEntry(entry), ...args],
    { ...options, env },
  );
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

/** Best effort when the parent exits without stopping its children (e.g. an uncaught error). */
process.once('exit', () => {
  for (const p of live) p.kill();
});
