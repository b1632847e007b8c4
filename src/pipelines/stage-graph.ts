/**
 * The stage graph of a pipeline: where an item can go from a stage, what is reached from a stage,
 * what lies upstream of one, and the cycles. One walk of the graph for the validator (which checks
 * untrusted specs, validate-graph.ts) and the engine (which runs valid ones in workflow code), so
 * this is pure and deterministic: plain TypeScript, no Node built-ins, no clock, no randomness, no I/O.
 */
import type { PipelineSpec, StageSpec } from './spec';

/** The stages an item can go to from a stage, in spec order. */
export type Successors = (stage: string) => readonly string[];

/** The stages an item can go to from `stage`, in spec order (for interpreters and tools). */
export function stageTargets(stage: StageSpec): string[] {
  switch (stage.kind) {
    case 'split':
      return [...stage.routes.map((route) => route.to), stage.default];
    case 'copy':
      return [...stage.to];
    case 'reduce':
      return [];
    default:
      return stage.next === undefined ? [] : [stage.next];
  }
}

/** The successors of every stage of a valid spec. */
export function specSuccessors(spec: PipelineSpec): Successors {
  return (stage) => stageTargets(spec.stages[stage]);
}

/** Every stage an item can reach from `start`, `start` included, in breadth-first order. */
export function reachableFrom(start: string, successors: Successors): Set<string> {
  const reached = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    for (const next of successors(queue.shift()!)) {
      if (!reached.has(next)) {
        reached.add(next);
        queue.push(next);
      }
    }
  }
  return reached;
}

/** Stage → every stage from which an item can reach it (its transitive predecessors). */
export function upstreamOf(stages: readonly string[], successors: Successors): Map<string, Set<string>> {
  const upstream = new Map<string, Set<string>>(stages.map((name) => [name, new Set<string>()]));
  const visit = (from: string, at: string) => {
    for (const next of successors(at)) {
      const set = upstream.get(next)!;
      if (!set.has(from)) {
        set.add(from);
        visit(from, next);
      }
    }
  };
  for (const name of stages) visit(name, name);
  return upstream;
}

/** A cycle: its stages in the direction items flow (the first again at the end), and the edge that closes it. */
export interface Cycle<E> {
  stages: string[];
  edge: E;
}

/**
 * The cycles of a graph, one per edge that closes one (iterative depth-first search from each of
 * `roots` in turn not visited yet; put the start first so a cycle reads in the direction items
 * flow). `out` lists a stage's edges; an edge may carry more than its target (e.g. where it is written).
 */
export function findCycles<E extends { readonly to: string }>(
  roots: readonly string[],
  out: (stage: string) => readonly E[],
): Cycle<E>[] {
  const cycles: Cycle<E>[] = [];
  const state = new Map<string, 'open' | 'done'>();
  for (const root of roots) {
    if (state.has(root)) continue;
    const stack: { stage: string; next: number }[] = [{ stage: root, next: 0 }];
    state.set(root, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const edges = out(top.stage);
      if (top.next >= edges.length) {
        state.set(top.stage, 'done');
        stack.pop();
        continue;
      }
      const edge = edges[top.next++];
      const seen = state.get(edge.to);
      if (seen === 'open') {
        const from = stack.findIndex((frame) => frame.stage === edge.to);
        cycles.push({ stages: [...stack.slice(from).map((frame) => frame.stage), edge.to], edge });
      } else if (seen === undefined) {
        state.set(edge.to, 'open');
        stack.push({ stage: edge.to, next: 0 });
      }
    }
  }
  return cycles;
}
