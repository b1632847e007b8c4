/**
 * CPU time of other processes over a window of wall time: samples /proc/<pid>/stat every 200 ms
 * and answers for [from, to] from the samples just before `from` and just after `to`. Needed for
 * windows known only afterwards (a workflow's start and close times) and for processes that exit
 * (the CLI: its last sample is at most 200 ms short).
 */
import { procCpuSeconds } from './measure';

interface Sample {
  at: number;
  cpu: number;
}

export class CpuSampler {
  private readonly samples = new Map<number, Sample[]>();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 200) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Starts watching `pid` (its first sample is now). */
  watch(pid: number | undefined): void {
    if (pid === undefined || this.samples.has(pid)) return;
    this.samples.set(pid, []);
    this.sampleOne(pid);
  }

  sample(): void {
    for (const pid of this.samples.keys()) this.sampleOne(pid);
  }

  private sampleOne(pid: number): void {
    const cpu = procCpuSeconds(pid);
    const list = this.samples.get(pid)!;
    // A process that is gone reads 0: keep its last value.
    if (cpu === 0 && list.length > 0) return;
    list.push({ at: Date.now(), cpu });
  }

  /** CPU seconds `pid` used between the wall-clock times `from` and `to` (ms since the epoch). */
  cpuBetween(pid: number | undefined, from: number, to: number): number {
    const list = pid === undefined ? undefined : this.samples.get(pid);
    if (!list || list.length === 0) return 0;
    const before = [...list].reverse().find((s) => s.at <= from) ?? list[0];
    const after = list.find((s) => s.at >= to) ?? list[list.length - 1];
    return Math.max(0, after.cpu - before.cpu);
  }

  forget(pid: number | undefined): void {
    if (pid !== undefined) this.samples.delete(pid);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
