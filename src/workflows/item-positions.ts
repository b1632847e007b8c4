/**
 * Where each item of a partition is (stage and state), with counts per stage kept as items move,
 * so the engine's frequent questions — may this queue send? may this join open? — cost O(stages),
 * not a scan of every item. Deterministic workflow code.
 */
export type Position = 'moving' | 'queued' | 'running' | 'waiting';

export class ItemPositions {
  private readonly byToken = new Map<number, { stage: string; state: Position }>();
  private readonly counts = new Map<string, Record<Position, number>>();

  set(token: number, stage: string, state: Position): void {
    // An item moves several times per stage: its entry is updated in place, not replaced.
    const at = this.byToken.get(token);
    if (at) {
      this.counts.get(at.stage)![at.state] -= 1;
      at.stage = stage;
      at.state = state;
    } else {
      this.byToken.set(token, { stage, state });
    }
    let counts = this.counts.get(stage);
    if (!counts) {
      counts = { moving: 0, queued: 0, running: 0, waiting: 0 };
      this.counts.set(stage, counts);
    }
    counts[state] += 1;
  }

  delete(token: number): void {
    const at = this.byToken.get(token);
    if (!at) return;
    this.byToken.delete(token);
    this.counts.get(at.stage)![at.state] -= 1;
  }

  /** Items at `stage`, in any state or in the states given. */
  countAt(stage: string, states?: Position[]): number {
    const counts = this.counts.get(stage);
    if (!counts) return 0;
    if (!states) return counts.moving + counts.queued + counts.running + counts.waiting;
    let n = 0;
    for (const state of states) n += counts[state];
    return n;
  }

  /** Items per stage and state, for progress. */
  perStage(): Map<string, Readonly<Record<Position, number>>> {
    return this.counts;
  }
}
