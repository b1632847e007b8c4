/**
 * Checks of each stage of a pipeline spec (see validate.ts): its kind, the properties that kind
 * takes (activities, predicates, routes, copy branches, shard settings, reduce fields and report),
 * and its references to other stages, which go to the {@link StageGraph}. Workflow code imports the
 * validator, so this is pure and deterministic: plain TypeScript, no Node built-ins, no clock, no
 * randomness, no I/O.
 */
import { didYouMean } from './did-you-mean';
import { reportActivityNames } from './activity-names';
import { fieldProblems, isRecord, predicateProblems, show, typeName } from './predicate';
import { nonEmptyString, positiveInteger, type Problems, setKeys } from './validate-common';
import type { StageGraph } from './validate-graph';
import { checkDuration, checkRetry } from './validate-retry';
import { checkSink } from './validate-sink';

export const stageKinds = ['activity', 'filter', 'split', 'copy', 'shard', 'join', 'reduce'] as const;
type StageKind = (typeof stageKinds)[number];

/** The properties each kind of stage may have (anything else is most likely a typo). */
const stageProperties: Record<StageKind, readonly string[]> = {
  activity: ['kind', 'activity', 'next', 'taskQueue', 'retry', 'batchSize', 'timeout', 'sink', 'local'],
  filter: ['kind', 'where', 'next'],
  split: ['kind', 'routes', 'default'],
  copy: ['kind', 'to', 'mode'],
  shard: ['kind', 'key', 'shards', 'activity', 'queue', 'next', 'retry', 'batchSize', 'timeout'],
  join: ['kind', 'next'],
  reduce: ['kind', 'sum', 'histogram', 'report'],
};

/** What the stage checks of one spec share. */
export interface StageChecks {
  problems: Problems;
  graph: StageGraph;
  /** The stage activities the workers register. */
  knownActivities: readonly string[];
}

export function checkStage(checks: StageChecks, name: string, path: string, stage: unknown): void {
  const { problems, graph } = checks;
  const { add } = problems;
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
      graph.follow(name, ref, path);
    }
    if (Array.isArray(stage.routes)) {
      for (const route of stage.routes) {
        if (isRecord(route)) graph.follow(name, route.to, path);
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
    } else if (key === 'local' && known === 'shard') {
      add(
        `${path}.local`,
        'a shard stage sends its calls to its shard task queues, and local activities run on the workflow worker with no queue: remove "local", or make it an activity stage without shards',
      );
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
    if (stage.next !== undefined) graph.target(`${path}.next`, stage.next, name);
  };
  switch (known) {
    case 'activity':
      activityName(checks, `${path}.activity`, stage.activity);
      if (stage.taskQueue !== undefined)
        nonEmptyString(problems, `${path}.taskQueue`, stage.taskQueue, "or omit it for the pipeline's activity queue");
      work(problems, path, stage);
      checkSink(problems, path, stage);
      checkLocal(problems, path, stage);
      next();
      break;
    case 'filter':
      if (stage.where === undefined) {
        add(
          `${path}.where`,
          'missing where; give the predicate items must match to pass, e.g. { "field": "optIn", "op": "eq", "value": true }',
        );
      } else {
        problems.addAll(predicateProblems(stage.where, `${path}.where`));
      }
      next();
      break;
    case 'split':
      checkRoutes(checks, name, path, stage.routes);
      if (stage.default === undefined) {
        add(
          `${path}.default`,
          `missing default: items that match no route would have a branch with no target; set default to the stage that takes them (e.g. a "noop" activity stage). Stages are: ${graph.list}`,
        );
      } else {
        graph.target(`${path}.default`, stage.default, name);
      }
      break;
    case 'copy':
      checkCopy(checks, name, path, stage);
      break;
    case 'shard':
      if (stage.key === undefined || stage.key === '') {
        const what = stage.key === undefined ? 'missing key' : 'is empty';
        add(`${path}.key`, `${what}; name the field to shard by, e.g. "$id" or "user.id"`);
      } else problems.addAll(fieldProblems(stage.key, `${path}.key`));
      if (stage.shards === undefined)
        add(`${path}.shards`, 'missing shards; set the number of shards (task queues), e.g. 3');
      else positiveInteger(problems, `${path}.shards`, stage.shards, shardHint(stage.queue));
      activityName(checks, `${path}.activity`, stage.activity);
      if (stage.queue === undefined) {
        add(
          `${path}.queue`,
          'missing queue; name the task-queue prefix: shard k runs on "<queue>-shard-<k>", e.g. "enrich"',
        );
      } else {
        nonEmptyString(problems, `${path}.queue`, stage.queue, 'shard k runs on "<queue>-shard-<k>", e.g. "enrich"');
      }
      work(problems, path, stage);
      next();
      break;
    case 'join':
      next();
      break;
    case 'reduce':
      for (const key of ['sum', 'histogram'] as const) {
        if (stage[key] !== undefined) fieldList(problems, `${path}.${key}`, stage[key], key);
      }
      if (stage.report !== undefined) checkReport(problems, `${path}.report`, stage.report);
      break;
  }
}

function checkRoutes(checks: StageChecks, name: string, path: string, routes: unknown): void {
  const { problems, graph } = checks;
  const { add } = problems;
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
    if (route.when === undefined) add(`${routePath}.when`, 'missing when; give the predicate that selects this route');
    else problems.addAll(predicateProblems(route.when, `${routePath}.when`));
    graph.target(`${routePath}.to`, route.to, name);
  });
}

function checkCopy(checks: StageChecks, name: string, path: string, stage: Record<string, unknown>): void {
  const { problems, graph } = checks;
  const { add } = problems;
  const to = stage.to;
  if (to === undefined) {
    add(
      `${path}.to`,
      `missing to; list the branches (at least 2 stages) every item is copied into. Stages are: ${graph.list}`,
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
      graph.target(`${path}.to[${i}]`, branch, name);
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
function work(problems: Problems, path: string, stage: Record<string, unknown>): void {
  if (stage.batchSize !== undefined) positiveInteger(problems, `${path}.batchSize`, stage.batchSize);
  if (stage.timeout !== undefined) checkDuration(problems, `${path}.timeout`, stage.timeout);
  if (stage.retry !== undefined) checkRetry(problems, `${path}.retry`, stage.retry);
}

function activityName(checks: StageChecks, path: string, value: unknown): void {
  const { add } = checks.problems;
  const { knownActivities } = checks;
  const list = knownActivities.join(', ');
  if (value === undefined) add(path, `missing activity; name the stage activity to run. Activities are: ${list}`);
  else if (typeof value !== 'string')
    add(path, `must be an activity name (a string), not ${typeName(value)}. Activities are: ${list}`);
  else if (!knownActivities.includes(value)) {
    add(path, `unknown activity ${show(value)}${didYouMean(value, knownActivities)} Activities are: ${list}`);
  }
}

/** A reduce stage's report step: `{ activity: <a registered report activity> }`. */
function checkReport(problems: Problems, path: string, report: unknown): void {
  const { add } = problems;
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

function fieldList(problems: Problems, path: string, value: unknown, key: 'sum' | 'histogram'): void {
  const { add } = problems;
  const example = key === 'sum' ? '["bytes"]' : '["tag"]';
  if (!Array.isArray(value)) {
    add(path, `must be a list of field names, not ${typeName(value)}; e.g. ${example}`);
    return;
  }
  const seen = new Set<unknown>();
  value.forEach((field, i) => {
    if (field === '') add(`${path}[${i}]`, `is empty; name a field of the item data, e.g. ${example.slice(1, -1)}`);
    else if (seen.has(field)) add(`${path}[${i}]`, `${show(field)} is listed twice; list each field once`);
    else problems.addAll(fieldProblems(field, `${path}[${i}]`));
    seen.add(field);
  });
}

function shardHint(queue: unknown): string {
  const prefix = typeof queue === 'string' && queue !== '' ? queue : '<queue>';
  return `shard k runs on task queue "${prefix}-shard-<k>"; use 1 for a single queue "${prefix}-shard-0"`;
}

/** `local: true` runs the stage's calls on the workflow worker: no task queue to name. */
function checkLocal(problems: Problems, path: string, stage: Record<string, unknown>): void {
  if (stage.local === undefined) return;
  if (typeof stage.local !== 'boolean') {
    problems.add(`${path}.local`, `must be true or false, not ${typeName(stage.local)}`);
  } else if (stage.local && stage.taskQueue !== undefined) {
    problems.add(
      `${path}.local`,
      'local activities run on the workflow worker, not on a task queue: remove "taskQueue", or remove "local" to send the calls to that queue',
    );
  }
}
