/**
 * A loop that does one round, pauses, and does the next, until stopped: the control loops of the
 * autoscaler and the work stealer. `stop()` cuts a pause short and waits for the round in progress,
 * so a caller that awaits it knows no round runs any more.
 */
export class PeriodicLoop {
  private loop: Promise<void> | undefined;
  private stopRequested = false;
  private wake: (() => void) | undefined;

  constructor(
    /** One round; the loop goes on when it returns. */
    private readonly round: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  /** True once `stop()` was called: a round in progress may end early. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Starts the loop (no-op when it runs). */
  start(): void {
    if (this.loop) return;
    this.stopRequested = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    while (!this.stopRequested) {
      await this.round();
      if (!this.stopRequested) await this.pause();
    }
  }

  private pause(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.intervalMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (this.wake = undefined));
  }
}
