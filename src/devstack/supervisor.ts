/**
 * Keeps one child process of `npm start` running (the dev server, a worker): when it exits without
 * being asked to, anything left in its process group is killed, a line says so, and it is started
 * again. More than `maxRestarts` restarts within `windowMs` means something is wrong that a restart
 * will not fix: `onGiveUp` gets a message naming what died, how, and where its log is.
 */
import type { ManagedProcess } from '../infra/processes';
import { sleep } from '../infra/wait';

export interface SupervisorOptions {
  /** For people: "the Temporal dev server", "worker 0". */
  name: string;
  /** Starts the process and resolves once it is ready (throws if it cannot start). */
  start: () => Promise<ManagedProcess>;
  logFile: string;
  log: (line: string) => void;
  onGiveUp: (message: string) => void;
  /** Restarts allowed within `windowMs` (default 5 within 10 minutes). */
  maxRestarts?: number;
  windowMs?: number;
}

export const defaultRestartLimit = { maxRestarts: 5, windowMs: 10 * 60_000 };

export class Supervisor {
  private stopped = false;
  private restarts: number[] = [];
  /** Settles when the watch loop ends (stopped or given up). */
  private readonly watching: Promise<void>;

  private constructor(
    private readonly options: SupervisorOptions,
    private process: ManagedProcess,
  ) {
    this.watching = this.watch();
  }

  /** Starts the process (errors at first start are the caller's), then keeps it running. */
  static async start(options: SupervisorOptions): Promise<Supervisor> {
    return new Supervisor(options, await options.start());
  }

  /** The process running now (a restart replaces it). */
  get current(): ManagedProcess {
    return this.process;
  }

  /** Stops supervising, then stops the process (SIGTERM, SIGKILL after `graceMs`). */
  async stop(graceMs?: number): Promise<void> {
    this.stopped = true;
    await this.process.stop(graceMs);
    await this.watching;
  }

  private async watch(): Promise<void> {
    const { name, logFile, log, onGiveUp } = this.options;
    const maxRestarts = this.options.maxRestarts ?? defaultRestartLimit.maxRestarts;
    const windowMs = this.options.windowMs ?? defaultRestartLimit.windowMs;
    const window = windowMs >= 60_000 ? plural(Math.round(windowMs / 60_000), 'minute') : `${windowMs / 1000} s`;
    for (;;) {
      await this.process.exited;
      if (this.stopped) return;
      this.process.killLeftovers();
      let how = this.process.exitDescription ?? 'unknown';
      for (let failedStarts = 0; ; failedStarts++) {
        const now = Date.now();
        this.restarts = this.restarts.filter((at) => now - at < windowMs);
        if (this.restarts.length >= maxRestarts) {
          onGiveUp(
            `${name} exited (${how}) after ${maxRestarts} restarts within ${window}; giving up. ` +
              `See its log: ${logFile}`,
          );
          return;
        }
        this.restarts.push(now);
        log(`${name} exited (${how}); restarting (${this.restarts.length} of ${maxRestarts})…`);
        try {
          const next = await this.options.start();
          if (this.stopped) {
            await next.stop();
            return;
          }
          this.process = next;
          log(`${name} is running again.`);
          break;
        } catch (error) {
          if (this.stopped) return;
          how = `its restart failed: ${error instanceof Error ? error.message : String(error)}`;
          // Backs off (1, 2, 4… s), e.g. a worker whose server is still coming back.
          await sleep(Math.min(1000 * 2 ** failedStarts, 30_000));
        }
      }
    }
  }
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
