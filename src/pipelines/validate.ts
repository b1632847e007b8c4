/**
 * Validation of untrusted pipeline specs (JSON/YAML handed over at run time, or built in TypeScript):
 * every problem is collected, each with where it is and how to fix it. Workflow code imports this
 * (the interpreter re-validates what it is given), so it is pure and deterministic: plain TypeScript,
 * no Node built-ins, no clock, no randomness, no I/O.
 */
import { reportActivityNames, stageActivityNames } from './activity-names';
import { closestMatch, didYouMean, fieldProblems, isRecord, predicateProblems, show, typeName } from './predicate';
import type { PipelineSpec, StageSpec } from './spec';

/** One thing wrong with a spec: where (`stages.notify.routes[1].to`) and what to do about it. */
export interface SpecProblem {
  /** Dotted path into the spec; empty for the spec as a whole. */
  path: string;
  /** What is wrong and how to fix it. */
  message: string;
  /** Line in the source file, when the spec was loaded from one (see load.ts). */
  line?: number;
}

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

const durationPattern =
  /^(-?(?:\d+)?\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)?$/i;

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

function unitMs(unit: string): number {
  switch (unit) {
    case 'y':
    case 'yr':
    case 'yrs':
    case 'year':
    case 'years':
      return 365.25 * day;
    case 'w':
    case 'week':
    case 'weeks':
      return 7 * day;
    case 'd':
    case 'day':
    case 'days':
      return day;
    case 'h':
    case 'hr':
    case 'hrs':
    case 'hour':
    case 'hours':
      return hour;
    case 'm':
    case 'min':
    case 'mins':
    case 'minute':
    case 'minutes':
      return minute;
    case 's':
    case 'sec':
    case 'secs':
    case 'second':
    case 'seconds':
      return second;
    default:
      return 1; // ms, msec, msecs, millisecond, milliseconds
  }
}

/**
 * Milliseconds of a duration string, with the grammar of the `ms` package that Temporal uses for
 * durations ('500 ms', '1 second', '2 seconds', '5 minutes', '2 hours', '3 days', '10s', '2h', '1.5h',
 * plain '250' = milliseconds; units case-insensitive; no surrounding spaces), or undefined when
 * `ms` would not parse it either. Negative values parse (as in `ms`); validators reject them.
 */
export function parseDuration(text: string): number | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 100) return undefined;
  const match = durationPattern.exec(text);
  if (!match) return undefined;
  return parseFloat(match[1]) * unitMs((match[2] ?? 'ms').toLowerCase());
}

export const stageKinds = ['activity', 'filter', 'split', 'copy', 'shard', 'join', 'reduce'] as const;
type StageKind = (typeof stageKinds)[number];

/** The properties each kind of stage may have (anything else is most likely a typo). */
const stageProperties: Record<StageKind, readonly string[]> = {
  activity: ['kind', 'activity', 'next', 'taskQueue', 'retry', 'batchSize', 'timeout'],
  filter: ['kind', 'where', 'next'],
  split: ['kind', 'routes', 'default'],
  copy: ['kind', 'to', 'mode'],
  shard: ['kind', 'key', 'shards', 'activity', 'queue', 'next', 'retry', 'batchSize', 'timeout'],
  join: ['kind', 'next'],
  reduce: ['kind', 'sum', 'histogram', 'report'],
};

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

const retryProperties = [
  'initialInterval',
  'backoffCoefficient',
  'maximumInterval',
  'maximumAttempts',
  'nonRetryableErrorTypes',
] as const;

const specNamePattern = /^[A-Za-z0-9._-]+$/;
const stageNamePattern = /^[A-Za-z0-9_-]+$/;
/** Temporal's default initial retry interval, which maximumInterval must not undercut. */
const defaultInitialInterval = second;

/** `stages.email`, or `stages["bad name"]` when the name would make the path ambiguous. */
function stagePath(name: string): string {
  return stageNamePattern.test(name) ? `stages.${name}` : `stages[${JSON.stringify(name)}]`;
}

/** Properties actually set: TypeScript specs may carry `key: undefined`, which means absent. */
function setKeys(object: Record<string, unknown>): string[] {
  return Object.keys(object).filter((key) => object[key] !== undefined);
}

const hasOwn = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

interface Edge {
  to: string;
  /** Where the edge is written, e.g. `stages.notify.routes[1].to`. */
  path: string;
}

/**
 * Every problem of an untrusted spec, in a stable order (empty when it is valid). `knownActivities`
 * are the stage activities the workers register.
 */
export function pipelineSpecProblems(
  spec: unknown,
  knownActivities: readonly string[] = stageActivityNames,
): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });

  if (!isRecord(spec)) {
    add('', `must be an object with name, start and stages, not ${typeName(spec)}`);
    return problems;
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
  const names = stages ? setKeys(stages) : [];
  const stageList = names.join(', ');
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

  const edges = new Map<string, Edge[]>();
  /** References to unknown stages, as the stage they most likely mean (for reachability only). */
  const assumed = new Map<string, Edge[]>();
  for (const name of names) {
    edges.set(name, []);
    assumed.set(name, []);
  }

  /** Checks a reference to a stage; records it as an edge of `from` when it names one. */
  const target = (path: string, value: unknown, from: string | undefined, what = 'a stage name'): void => {
    if (value === undefined) {
      add(path, `missing; name the stage to go to. Stages are: ${stageList}`);
    } else if (typeof value !== 'string') {
      add(path, `must be ${what} (a string), not ${typeName(value)}. Stages are: ${stageList}`);
    } else if (!stages || !hasOwn(stages, value) || stages[value] === undefined) {
      add(path, `unknown stage ${show(value)}${didYouMean(value, names)} Stages are: ${stageList}`);
      // Assume the suggested fix when looking for unreachable stages: one typo, one problem.
      const meant = closestMatch(value, names);
      if (from !== undefined && meant !== undefined) assumed.get(from)?.push({ to: meant, path });
    } else if (from !== undefined) {
      edges.get(from)?.push({ to: value, path });
    }
  };

  // start
  if (spec.start === undefined) {
    add(
      'start',
      `missing start; name the first stage every item enters${names.length ? `. Stages are: ${stageList}` : ''}`,
    );
  } else if (stages && names.length > 0) {
    target('start', spec.start, undefined);
  } else if (typeof spec.start !== 'string' || spec.start === '') {
    add('start', `must be a stage name (a string), not ${show(spec.start)}`);
  }

  // run-wide settings
  if (spec.description !== undefined && typeof spec.description !== 'string')
    add('description', `must be a string (one line saying what the pipeline does), not ${show(spec.description)}`);
  if (spec.activityQueue !== undefined)
    nonEmptyString('activityQueue', spec.activityQueue, 'e.g. "pipeline-activities"');
  if (spec.concurrency !== undefined) positiveInteger('concurrency', spec.concurrency);
  if (spec.partitionSize !== undefined) positiveInteger('partitionSize', spec.partitionSize);
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
    checkStage(name, path, stages![name]);
  }

  // the graph: acyclic, everything reachable from start
  if (names.length > 0) {
    for (const cycle of findCycles(names, edges, typeof spec.start === 'string' ? spec.start : undefined)) {
      add(
        cycle.edge.path,
        `cycle ${cycle.stages.join(' → ')}: pipelines must be acyclic; point "${cycle.stages[cycle.stages.length - 2]}" at a stage further on, or end the path there`,
      );
    }
    const start = spec.start;
    if (typeof start === 'string' && edges.has(start)) {
      const reached = new Set<string>([start]);
      const queue = [start];
      while (queue.length > 0) {
        const stage = queue.shift()!;
        for (const edge of [...edges.get(stage)!, ...assumed.get(stage)!]) {
          if (!reached.has(edge.to)) {
            reached.add(edge.to);
            queue.push(edge.to);
          }
        }
      }
      for (const name of names) {
        if (!reached.has(name)) {
          add(stagePath(name), `stage "${name}" is never reached from start "${start}"; connect it or remove it`);
        }
      }
    }
  }
  return problems;

  function checkStage(name: string, path: string, stage: unknown): void {
    if (!isRecord(stage)) {
      add(
        path,
        `must be a stage object with a kind, not ${typeName(stage)}; e.g. { "kind": "activity", "activity": "noop" }`,
      );
      return;
    }
    const kind = stage.kind;
    if (kind === undefined || typeof kind !== 'string' || !(stageKinds as readonly string[]).includes(kind)) {
      if (kind === undefined) add(`${path}.kind`, `missing kind; set kind to one of: ${stageKinds.join(', ')}`);
      else
        add(
          `${path}.kind`,
          `unknown kind ${show(kind)}${typeof kind === 'string' ? didYouMean(kind, stageKinds) : '.'} Kinds are: ${stageKinds.join(', ')}`,
        );
      // Still follow its references, so the stages behind it are not reported as unreachable.
      for (const ref of [stage.next, stage.default, ...(Array.isArray(stage.to) ? stage.to : [stage.to])]) {
        if (typeof ref === 'string' && edges.has(ref)) edges.get(name)!.push({ to: ref, path });
      }
      if (Array.isArray(stage.routes)) {
        for (const route of stage.routes) {
          if (isRecord(route) && typeof route.to === 'string' && edges.has(route.to)) {
            edges.get(name)!.push({ to: route.to, path });
          }
        }
      }
      return;
    }
    const known = kind as StageKind;
    const allowed = stageProperties[known];
    for (const key of setKeys(stage)) {
      if (allowed.includes(key)) continue;
      if (key === 'next' && known === 'reduce') {
        add(`${path}.next`, 'a reduce stage ends the path (its aggregate is the run\'s result); remove "next"');
      } else if (key === 'next' && (known === 'split' || known === 'copy')) {
        const via = known === 'split' ? '"routes" and "default"' : '"to"';
        add(`${path}.next`, `a ${known} stage has no "next": it sends items on with ${via}; remove "next"`);
      } else {
        add(
          `${path}.${key}`,
          `unknown property "${key}" for ${known === 'activity' ? 'an' : 'a'} ${known} stage${didYouMean(key, allowed)} Allowed properties: ${allowed.join(', ')}`,
        );
      }
    }
    const next = () => {
      if (stage.next !== undefined) target(`${path}.next`, stage.next, name);
    };
    switch (known) {
      case 'activity':
        activityName(`${path}.activity`, stage.activity);
        if (stage.taskQueue !== undefined)
          nonEmptyString(`${path}.taskQueue`, stage.taskQueue, "or omit it for the pipeline's activity queue");
        work(path, stage);
        next();
        break;
      case 'filter':
        if (stage.where === undefined) {
          add(
            `${path}.where`,
            'missing where; give the predicate items must match to pass, e.g. { "field": "optIn", "op": "eq", "value": true }',
          );
        } else {
          problems.push(...predicateProblems(stage.where, `${path}.where`));
        }
        next();
        break;
      case 'split':
        checkRoutes(name, path, stage.routes);
        if (stage.default === undefined) {
          add(
            `${path}.default`,
            `missing default: items that match no route would have a branch with no target; set default to the stage that takes them (e.g. a "noop" activity stage). Stages are: ${stageList}`,
          );
        } else {
          target(`${path}.default`, stage.default, name);
        }
        break;
      case 'copy':
        checkCopy(name, path, stage);
        break;
      case 'shard':
        if (stage.key === undefined || stage.key === '') {
          const what = stage.key === undefined ? 'missing key' : 'is empty';
          add(`${path}.key`, `${what}; name the field to shard by, e.g. "$id" or "user.id"`);
        } else problems.push(...fieldProblems(stage.key, `${path}.key`));
        if (stage.shards === undefined)
          add(`${path}.shards`, 'missing shards; set the number of shards (task queues), e.g. 3');
        else positiveInteger(`${path}.shards`, stage.shards, shardHint(stage.queue));
        activityName(`${path}.activity`, stage.activity);
        if (stage.queue === undefined) {
          add(
            `${path}.queue`,
            'missing queue; name the task-queue prefix: shard k runs on "<queue>-shard-<k>", e.g. "enrich"',
          );
        } else {
          nonEmptyString(`${path}.queue`, stage.queue, 'shard k runs on "<queue>-shard-<k>", e.g. "enrich"');
        }
        work(path, stage);
        next();
        break;
      case 'join':
        next();
        break;
      case 'reduce':
        for (const key of ['sum', 'histogram'] as const) {
          if (stage[key] !== undefined) fieldList(`${path}.${key}`, stage[key], key);
        }
        if (stage.report !== undefined) checkReport(`${path}.report`, stage.report);
        break;
    }
  }

  function checkRoutes(name: string, path: string, routes: unknown): void {
    const at = `${path}.routes`;
    if (routes === undefined) {
      add(
        at,
        'missing routes; list at least one { "when": <predicate>, "to": <stage> } (items matching none go to default)',
      );
      return;
    }
    if (!Array.isArray(routes)) {
      add(at, `must be a list of { "when": <predicate>, "to": <stage> }, not ${typeName(routes)}`);
      return;
    }
    if (routes.length === 0) {
      add(
        at,
        'is empty; list at least one { "when": <predicate>, "to": <stage> }, or replace the split with "next" on the stage before',
      );
      return;
    }
    routes.forEach((route, i) => {
      const routePath = `${at}[${i}]`;
      if (!isRecord(route)) {
        add(routePath, `must be { "when": <predicate>, "to": <stage> }, not ${typeName(route)}`);
        return;
      }
      for (const key of setKeys(route)) {
        if (key !== 'when' && key !== 'to') {
          add(
            `${routePath}.${key}`,
            `unknown property "${key}" of a route${didYouMean(key, ['when', 'to'])} Allowed properties: when, to`,
          );
        }
      }
      if (route.when === undefined)
        add(`${routePath}.when`, 'missing when; give the predicate that selects this route');
      else problems.push(...predicateProblems(route.when, `${routePath}.when`));
      target(`${routePath}.to`, route.to, name);
    });
  }

  function checkCopy(name: string, path: string, stage: Record<string, unknown>): void {
    const to = stage.to;
    if (to === undefined) {
      add(
        `${path}.to`,
        `missing to; list the branches (at least 2 stages) every item is copied into. Stages are: ${stageList}`,
      );
    } else if (!Array.isArray(to)) {
      add(`${path}.to`, `must be a list of at least 2 stage names, not ${typeName(to)}`);
    } else {
      const seen = new Set<unknown>();
      to.forEach((branch, i) => {
        if (seen.has(branch)) {
          add(`${path}.to[${i}]`, `${show(branch)} is listed twice; copy into distinct branches`);
          return;
        }
        seen.add(branch);
        target(`${path}.to[${i}]`, branch, name);
      });
      if (seen.size < 2) {
        add(
          `${path}.to`,
          `a copy needs at least 2 distinct branches (got ${seen.size}); add another branch, or drop the copy and use "next" on the stage before`,
        );
      }
    }
    if (stage.mode !== undefined && stage.mode !== 'all' && stage.mode !== 'race') {
      const hint = typeof stage.mode === 'string' ? didYouMean(stage.mode, ['all', 'race']) : '.';
      add(
        `${path}.mode`,
        `unknown mode ${show(stage.mode)}${hint} Modes are: all (every branch runs), race (the first branch to succeed wins)`,
      );
    }
  }

  /** Settings shared by activity and shard stages. */
  function work(path: string, stage: Record<string, unknown>): void {
    if (stage.batchSize !== undefined) positiveInteger(`${path}.batchSize`, stage.batchSize);
    if (stage.timeout !== undefined) duration(`${path}.timeout`, stage.timeout);
    if (stage.retry !== undefined) checkRetry(`${path}.retry`, stage.retry);
  }

  function activityName(path: string, value: unknown): void {
    const list = knownActivities.join(', ');
    if (value === undefined) add(path, `missing activity; name the stage activity to run. Activities are: ${list}`);
    else if (typeof value !== 'string')
      add(path, `must be an activity name (a string), not ${typeName(value)}. Activities are: ${list}`);
    else if (!knownActivities.includes(value)) {
      add(path, `unknown activity ${show(value)}${didYouMean(value, knownActivities)} Activities are: ${list}`);
    }
  }

  /** A reduce stage's report step: `{ activity: <a registered report activity> }`. */
  function checkReport(path: string, report: unknown): void {
    const list = reportActivityNames.join(', ');
    if (!isRecord(report)) {
      add(path, `must be an object like { "activity": "histogram-report" }, not ${typeName(report)}`);
      return;
    }
    for (const key of setKeys(report)) {
      if (key !== 'activity')
        add(`${path}.${key}`, `unknown property "${key}" of a report; a report has only "activity"`);
    }
    const activity = report.activity;
    if (activity === undefined)
      add(`${path}.activity`, `missing activity; name the report activity to run. Reports are: ${list}`);
    else if (typeof activity !== 'string' || !(reportActivityNames as readonly string[]).includes(activity)) {
      const hint = typeof activity === 'string' ? didYouMean(activity, reportActivityNames) : '.';
      add(`${path}.activity`, `unknown report activity ${show(activity)}${hint} Reports are: ${list}`);
    }
  }

  function checkRetry(path: string, retry: unknown): void {
    if (!isRecord(retry)) {
      add(
        path,
        `must be an object like { "initialInterval": "1 second", "maximumAttempts": 5 }, not ${typeName(retry)}`,
      );
      return;
    }
    for (const key of setKeys(retry)) {
      if (!(retryProperties as readonly string[]).includes(key)) {
        add(
          `${path}.${key}`,
          `unknown retry property "${key}"${didYouMean(key, retryProperties)} Allowed properties: ${retryProperties.join(', ')}`,
        );
      }
    }
    const initial =
      retry.initialInterval === undefined ? undefined : duration(`${path}.initialInterval`, retry.initialInterval);
    const maximum =
      retry.maximumInterval === undefined ? undefined : duration(`${path}.maximumInterval`, retry.maximumInterval);
    if (maximum !== undefined && maximum < (initial ?? defaultInitialInterval)) {
      add(
        `${path}.maximumInterval`,
        initial === undefined
          ? `${show(retry.maximumInterval)} is shorter than the default initialInterval (1 second); raise it or set a shorter initialInterval`
          : `${show(retry.maximumInterval)} is shorter than initialInterval ${show(retry.initialInterval)}; make it at least as long`,
      );
    }
    const coefficient = retry.backoffCoefficient;
    if (coefficient !== undefined) {
      if (typeof coefficient !== 'number' || !Number.isFinite(coefficient)) {
        add(
          `${path}.backoffCoefficient`,
          `must be a number ≥ 1, not ${show(coefficient)}; e.g. 2 doubles the interval after each attempt`,
        );
      } else if (coefficient < 1) {
        add(
          `${path}.backoffCoefficient`,
          `must be at least 1 (got ${coefficient}); 1 keeps the interval constant, 2 doubles it`,
        );
      }
    }
    if (retry.maximumAttempts !== undefined) {
      positiveInteger(
        `${path}.maximumAttempts`,
        retry.maximumAttempts,
        'omit maximumAttempts for unlimited attempts (the TypeScript SDK rejects 0)',
      );
    }
    const types = retry.nonRetryableErrorTypes;
    if (types !== undefined) {
      if (!Array.isArray(types)) {
        add(
          `${path}.nonRetryableErrorTypes`,
          `must be a list of error type names, not ${typeName(types)}; e.g. ["InvalidInput"]`,
        );
      } else {
        types.forEach((type, i) => {
          if (typeof type !== 'string' || type === '') {
            add(
              `${path}.nonRetryableErrorTypes[${i}]`,
              `must be a non-empty error type name, not ${show(type)}; e.g. "InvalidInput"`,
            );
          }
        });
      }
    }
  }

  /** Checks a duration; its milliseconds when valid. */
  function duration(path: string, value: unknown): number | undefined {
    const example = 'e.g. "500 ms", "30 seconds", "5 minutes", "2 hours"';
    if (typeof value !== 'string') {
      const hint = typeof value === 'number' ? `; write "${value} ms" for milliseconds` : '';
      add(path, `must be a duration string, not ${typeName(value)}${hint}; ${example}`);
      return undefined;
    }
    const ms = parseDuration(value);
    if (ms === undefined) {
      add(path, `${show(value)} is not a duration; write a number and a unit, ${example}`);
      return undefined;
    }
    if (ms <= 0) {
      add(path, `must be longer than 0 (got ${show(value)}); ${example}`);
      return undefined;
    }
    return ms;
  }

  function positiveInteger(path: string, value: unknown, hint?: string): void {
    const suffix = hint ? `; ${hint}` : '';
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
      add(path, `must be a number, not a string; write ${value.trim()} without quotes`);
    } else if (typeof value !== 'number' || !Number.isFinite(value)) {
      add(path, `must be a whole number ≥ 1, not ${show(value)}${suffix}`);
    } else if (value < 1) {
      add(path, `must be at least 1 (got ${value})${suffix}`);
    } else if (!Number.isInteger(value)) {
      add(path, `must be a whole number ≥ 1 (got ${value}); e.g. ${Math.round(value)}`);
    }
  }

  function nonEmptyString(path: string, value: unknown, hint: string): void {
    if (typeof value !== 'string') add(path, `must be a string, not ${typeName(value)}; ${hint}`);
    else if (value.trim() === '') add(path, `is empty; ${hint}`);
  }

  function fieldList(path: string, value: unknown, key: 'sum' | 'histogram'): void {
    const example = key === 'sum' ? '["bytes"]' : '["tag"]';
    if (!Array.isArray(value)) {
      add(path, `must be a list of field names, not ${typeName(value)}; e.g. ${example}`);
      return;
    }
    const seen = new Set<unknown>();
    value.forEach((field, i) => {
      if (field === '') add(`${path}[${i}]`, `is empty; name a field of the item data, e.g. ${example.slice(1, -1)}`);
      else if (seen.has(field)) add(`${path}[${i}]`, `${show(field)} is listed twice; list each field once`);
      else problems.push(...fieldProblems(field, `${path}[${i}]`));
      seen.add(field);
    });
  }
}

function shardHint(queue: unknown): string {
  const prefix = typeof queue === 'string' && queue !== '' ? queue : '<queue>';
  return `shard k runs on task queue "${prefix}-shard-<k>"; use 1 for a single queue "${prefix}-shard-0"`;
}

/** A name reduced to the allowed characters, for "e.g." hints. */
function sanitize(name: string, extra = '.'): string {
  const disallowed = extra ? /[^A-Za-z0-9._-]+/g : /[^A-Za-z0-9_-]+/g;
  return name.replace(disallowed, '-').replace(/^-+|-+$/g, '') || 'my-pipeline';
}

/**
 * Cycles of the stage graph, one per edge that closes one (iterative depth-first search, from
 * `start` first so a cycle reads in the direction items flow).
 */
function findCycles(
  names: string[],
  edges: Map<string, Edge[]>,
  start: string | undefined,
): { stages: string[]; edge: Edge }[] {
  const cycles: { stages: string[]; edge: Edge }[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const roots = start !== undefined && edges.has(start) ? [start, ...names.filter((n) => n !== start)] : names;
  for (const root of roots) {
    if (state.has(root)) continue;
    const stack: { stage: string; next: number }[] = [{ stage: root, next: 0 }];
    state.set(root, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const out = edges.get(top.stage) ?? [];
      if (top.next >= out.length) {
        state.set(top.stage, 'done');
        stack.pop();
        continue;
      }
      const edge = out[top.next++];
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
