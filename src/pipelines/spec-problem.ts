/** Kept apart from the validators so the checks (predicate.ts, validate-*.ts) need not import validate.ts. */
/** One thing wrong with a spec: where (`stages.notify.routes[1].to`) and what to do about it. */
export interface SpecProblem {
  /** Dotted path into the spec; empty for the spec as a whole. */
  path: string;
  /** What is wrong and how to fix it. */
  message: string;
  /** Line in the source file, when the spec was loaded from one (see load.ts). */
  line?: number;
}
