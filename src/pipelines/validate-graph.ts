/**
 * The stage graph of a pipeline spec being validated (see validate.ts): references to stages
 * (`start`, `next`, routes, `default`, copy branches) must name stages, the graph must be acyclic,
 * and every stage reachable from `start`. Workflow code imports the validator, so this is pure and
 * deterministic: plain TypeScript, no Node built-ins, no clock, no randomness, no I/O.
 */
import { closestMatch, didYouMean } from './did-you-mean';
import { hasOwn, show, typeName } from './predicate';
import { findCycles, reachableFrom } from './stage-graph';
import { type Problems, setKeys, stagePath } from './validate-common';

interface Edge {
  to: string;
  /** Where the edge is written, e.g. `stages.notify.routes[1].to`. */
  path: string;
}

/** The stages of a spec and the references between them, checked as they are recorded. */
export class StageGraph {
  /** The stage names, in spec order. */
  readonly names: string[];
  /** The stage names as messages list them. */
  readonly list: string;
  private readonly edges = new Map<string, Edge[]>();
  /** References to unknown stages, as the stage they most likely mean (for reachability only). */
  private readonly assumed = new Map<string, Edge[]>();

  constructor(
    private readonly problems: Problems,
    /** The spec's `stages`, when it is an object. */
    private readonly stages: Record<string, unknown> | undefined,
  ) {
    this.names = stages ? setKeys(stages) : [];
    this.list = this.names.join(', ');
    for (const name of this.names) {
      this.edges.set(name, []);
      this.assumed.set(name, []);
    }
  }

  /** Checks a reference to a stage; records it as an edge of `from` when it names one. */
  target(path: string, value: unknown, from: string | undefined): void {
    const { add } = this.problems;
    if (value === undefined) {
      add(path, `missing; name the stage to go to. Stages are: ${this.list}`);
    } else if (typeof value !== 'string') {
      add(path, `must be a stage name (a string), not ${typeName(value)}. Stages are: ${this.list}`);
    } else if (!this.stages || !hasOwn(this.stages, value) || this.stages[value] === undefined) {
      add(path, `unknown stage ${show(value)}${didYouMean(value, this.names)} Stages are: ${this.list}`);
      // Assume the suggested fix when looking for unreachable stages: one typo, one problem.
      const meant = closestMatch(value, this.names);
      if (from !== undefined && meant !== undefined) this.assumed.get(from)?.push({ to: meant, path });
    } else if (from !== undefined) {
      this.edges.get(from)?.push({ to: value, path });
    }
  }

  /**
   * Records a reference of a stage that is not checked (its kind is unknown) when it names a stage,
   * so the stages behind it are not reported as unreachable.
   */
  follow(from: string, to: unknown, path: string): void {
    if (typeof to === 'string' && this.edges.has(to)) this.edges.get(from)!.push({ to, path });
  }

  /** Checks the graph as a whole: no cycles, every stage reached from `start`. */
  check(start: unknown): void {
    if (this.names.length === 0) return;
    const { add } = this.problems;
    const stageStart = typeof start === 'string' && this.edges.has(start) ? start : undefined;
    // From start first, so a cycle reads in the direction items flow.
    const roots = stageStart === undefined ? this.names : [stageStart, ...this.names.filter((n) => n !== stageStart)];
    for (const cycle of findCycles(roots, (stage) => this.edges.get(stage) ?? [])) {
      add(
        cycle.edge.path,
        `cycle ${cycle.stages.join(' → ')}: pipelines must be acyclic; point "${cycle.stages[cycle.stages.length - 2]}" at a stage further on, or end the path there`,
      );
    }
    if (stageStart !== undefined) {
      // Typos count as the stage they most likely mean: one typo, one problem.
      const targets = (stage: string) =>
        [...this.edges.get(stage)!, ...this.assumed.get(stage)!].map((edge) => edge.to);
      const reached = reachableFrom(stageStart, targets);
      for (const name of this.names) {
        if (!reached.has(name)) {
          add(stagePath(name), `stage "${name}" is never reached from start "${stageStart}"; connect it or remove it`);
        }
      }
    }
  }
}
