/**
 * Copier (seeds, ch. 11): "take a single stream of work items and duplicate it out into two or
 * more identical streams" — e.g. one video rendered in several formats. Each branch is a child
 * workflow with its own history. `all` waits for every branch; `race` is the seeds' "take the
 * fastest result": the first branch to finish wins and the others are cancelled.
 */
import { CancellationScope } from '@temporalio/workflow';
import type { CopyStage } from '../../pipelines/spec';
import { EngineOutcome, emptyOutcome, mergeOutcome } from '../pipeline-engine';

/** Starts one branch (a child workflow) on the copied items; resolves with its outcome. */
export type BranchStarter = (to: string) => Promise<EngineOutcome>;

/** `all` on any kind of branch: one per target, started together; resolves with their results in target order. */
export function copyToAll<T, R>(targets: readonly T[], startBranch: (target: T) => Promise<R>): Promise<R[]> {
  return Promise.all(targets.map(startBranch));
}

export async function runCopies(stage: CopyStage, startBranch: BranchStarter): Promise<EngineOutcome> {
  if (stage.mode === 'race') {
    const scopes = stage.to.map(() => new CancellationScope());
    const runs = stage.to.map((to, i) => scopes[i].run(() => startBranch(to)).then((outcome) => ({ i, outcome })));
    const winner = await firstSuccess(runs);
    scopes.forEach((scope, i) => i !== winner.i && scope.cancel());
    await Promise.allSettled(runs);
    return winner.outcome;
  }
  const merged = emptyOutcome();
  for (const outcome of await copyToAll(stage.to, startBranch)) mergeOutcome(merged, outcome);
  return merged;
}

/** The first promise to fulfil (Promise.any, which the workflow sandbox's library lacks). */
function firstSuccess<T>(promises: Promise<T>[]): Promise<T> {
  return new Promise((resolve, reject) => {
    let failures = 0;
    for (const p of promises) p.then(resolve, (error) => ++failures === promises.length && reject(error));
  });
}
