/**
 * Validation of untrusted pipeline specs (JSON/YAML handed over at run time, or built in TypeScript):
 * every problem is collected, each with where it is and how to fix it. Workflow code imports this
 * (the interpreter re-validates what it is given), so it is pure and deterministic: plain TypeScript,
 * no Node built-ins, no clock, no randomness, no I/O.
 *
 * This module checks the spec as a whole and runs the other checks: each stage in validate-stage.ts
 * (retry policies and durations in validate-retry.ts), the stage graph in validate-graph.ts, shared
 * helpers in validate-common.ts; durations parse in duration.ts.
 */
import { didYouMean } from './did-you-mean';
import { stageActivityNames } from './activity-names';
import { isRecord, show, typeName } from './predicate';
import type { PipelineSpec } from './spec';
import { nonEmptyString, positiveInteger, Problems, setKeys, stageNamePattern, stagePath } from './validate-common';
import { StageGraph } from './validate-graph';
import { checkStage } from './validate-stage';
import type { SpecProblem } from './spec-problem';

export { parseDuration } from '../core/duration';
export { stageKinds } from './validate-stage';

export type { SpecProblem } from './spec-problem';

/** A spec with problems; `problems` lists all of them, the message one per line. */
export class PipelineSpecError extends Error {
  constructor(
    readonly problems: SpecProblem[],
    /** The spec's name, when it has one. */
    readonly specName?: string,
    /** Where the spec came from (a file name), for the message. */
    readonly source?: string,
  ) {
    super(formatProblems(problems, specName, source));
    this.name = 'PipelineSpecError';
  }
}

function formatProblems(problems: SpecProblem[], specName?: string, source?: string): string {
  const title = `Pipeline spec${specName !== undefined ? ` "${specName}"` : ''}${source !== undefined ? ` in ${source}` : ''} is invalid:`;
  const where = (p: SpecProblem) => `${p.path || '(spec)'}${p.line !== undefined ? ` (line ${p.line})` : ''}`;
  return [title, ...problems.map((p) => `  - ${where(p)}: ${p.message}`)].join('\n');
}

const specProperties = [
  'name',
  'start',
  'stages',
  'activityQueue',
  'concurrency',
  'partitionSize',
  'toleratedFailurePercent',
  'description',
] as const;

const specNamePattern = /^[A-Za-z0-9._-]+$/;

/**
 * Every problem of an untrusted spec, in a stable order (empty when it is valid). `knownActivities`
 * are the stage activities the workers register.
 */
export function pipelineSpecProblems(
  spec: unknown,
  knownActivities: readonly string[] = stageActivityNames,
): SpecProblem[] {
  const problems = new Problems();
  const { add } = problems;

  if (!isRecord(spec)) {
    add('', `must be an object with name, start and stages, not ${typeName(spec)}`);
    return problems.list;
  }

  for (const key of setKeys(spec)) {
    if (!(specProperties as readonly string[]).includes(key)) {
      add(
        key,
        `unknown property "${key}"${didYouMean(key, specProperties)} Allowed properties: ${specProperties.join(', ')}`,
      );
    }
  }

  // name
  if (spec.name === undefined) {
    add('name', 'missing name; name the pipeline with letters, digits, ".", "_" and "-", e.g. "signup-notify"');
  } else if (typeof spec.name !== 'string' || spec.name === '') {
    add('name', `must be a non-empty string, not ${show(spec.name)}; e.g. "signup-notify"`);
  } else if (!specNamePattern.test(spec.name)) {
    add(
      'name',
      `${show(spec.name)} may only contain letters, digits, ".", "_" and "-" (it names workflow IDs); e.g. "${sanitize(spec.name)}"`,
    );
  }

  // stages (names first: every reference is checked against them)
  const stages = isRecord(spec.stages) ? spec.stages : undefined;
  const graph = new StageGraph(problems, stages);
  const names = graph.names;
  if (spec.stages === undefined) {
    add(
      'stages',
      'missing stages; add an object mapping stage names to stages, e.g. { "work": { "kind": "activity", "activity": "noop" } }',
    );
  } else if (!stages) {
    add('stages', `must be an object mapping stage names to stages, not ${typeName(spec.stages)}`);
  } else if (names.length === 0) {
    add('stages', 'is empty; add at least one stage, e.g. { "work": { "kind": "activity", "activity": "noop" } }');
  }

  // start
  if (spec.start === undefined) {
    add(
      'start',
      `missing start; name the first stage every item enters${names.length ? `. Stages are: ${graph.list}` : ''}`,
    );
  } else if (stages && names.length > 0) {
    graph.target('start', spec.start, undefined);
  } else if (typeof spec.start !== 'string' || spec.start === '') {
    add('start', `must be a stage name (a string), not ${show(spec.start)}`);
  }

  // run-wide settings
  if (spec.description !== undefined && typeof spec.description !== 'string')
    add('description', `must be a string (one line saying what the pipeline does), not ${show(spec.description)}`);
  if (spec.activityQueue !== undefined)
    nonEmptyString(problems, 'activityQueue', spec.activityQueue, 'e.g. "pipeline-activities"');
  if (spec.concurrency !== undefined) positiveInteger(problems, 'concurrency', spec.concurrency);
  if (spec.partitionSize !== undefined) positiveInteger(problems, 'partitionSize', spec.partitionSize);
  if (spec.toleratedFailurePercent !== undefined) {
    const percent = spec.toleratedFailurePercent;
    if (typeof percent !== 'number' || !Number.isFinite(percent)) {
      add('toleratedFailurePercent', `must be a number from 0 to 100, not ${show(percent)}`);
    } else if (percent < 0 || percent > 100) {
      add(
        'toleratedFailurePercent',
        `must be from 0 to 100 (got ${percent}); 0 fails the run on the first dead letter, 100 never fails it`,
      );
    }
  }

  // each stage
  for (const name of names) {
    const path = stagePath(name);
    if (!stageNamePattern.test(name)) {
      add(
        path,
        `stage name ${show(name)} may only contain letters, digits, "_" and "-" (it names workflow IDs); rename it, e.g. "${sanitize(name, '')}"`,
      );
    }
    checkStage({ problems, graph, knownActivities }, name, path, stages![name]);
  }

  // the graph: acyclic, everything reachable from start
  graph.check(spec.start);
  return problems.list;
}

/** A name reduced to the allowed characters, for "e.g." hints. */
function sanitize(name: string, extra = '.'): string {
  const disallowed = extra ? /[^A-Za-z0-9._-]+/g : /[^A-Za-z0-9_-]+/g;
  return name.replace(disallowed, '-').replace(/^-+|-+$/g, '') || 'my-pipeline';
}

/**
 * The spec, typed, when it is valid; otherwise throws a {@link PipelineSpecError} listing every problem.
 * `knownActivities` are the stage activities the workers register.
 */
export function validatePipelineSpec(
  spec: unknown,
  knownActivities: readonly string[] = stageActivityNames,
): PipelineSpec {
  const problems = pipelineSpecProblems(spec, knownActivities);
  if (problems.length > 0) {
    const name = isRecord(spec) && typeof spec.name === 'string' && spec.name !== '' ? spec.name : undefined;
    throw new PipelineSpecError(problems, name);
  }
  return spec as unknown as PipelineSpec;
}
