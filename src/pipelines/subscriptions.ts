/**
 * Subscriptions: which pipelines and flows an event on a topic starts, and which inbox folders
 * publish to which topic. Configuration (pipelines/subscriptions.yaml), validated when loaded
 * against the pipeline catalog and the flows the event router can start, every problem named
 * with its place and the fix:
 *
 *   topics:
 *     signups: { description: A user signed up, pipelines: [signup-notify], flows: [signup] }
 *   inboxes:
 *     - { folder: inbox/uploads, topic: uploads }   # relative to the data folder
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../infra/paths';
import type { PipelineCatalog } from './catalog';
import { didYouMean } from './did-you-mean';
import { isRecord, show, typeName } from './predicate';

export const subscriptionsFile = path.join(repoRoot, 'pipelines', 'subscriptions.yaml');

export interface TopicSubscription {
  description: string;
  /** Pipelines started once per event published to the topic. */
  pipelines: string[];
  /** Flows started once per event (src/client/flow-subscribers.ts), e.g. transcode, signup. */
  flows: string[];
}

export interface InboxConfig {
  /** Absolute folder watched for files. */
  folder: string;
  /** The topic each settled file is published to. */
  topic: string;
}

export interface Subscriptions {
  topics: Record<string, TopicSubscription>;
  inboxes: InboxConfig[];
}

/** Topic names become part of URLs and event origins. */
const topicPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function unknownKeys(
  value: Record<string, unknown>,
  allowed: string[],
  at: string,
  add: (p: string, m: string) => void,
) {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      add(at ? `${at}.${key}` : key, `unknown property${didYouMean(key, allowed)} Allowed: ${allowed.join(', ')}`);
  }
}

/**
 * The problems of a topic's list of `kind`s (pipelines or flows): a non-empty list of known names,
 * each once. A name of the other kind is told where it belongs.
 */
function nameListProblems(
  listed: unknown,
  kind: 'pipeline' | 'flow',
  known: readonly string[],
  otherKind: readonly string[],
  at: string,
  add: (p: string, m: string) => void,
) {
  const plural = `${kind}s`;
  const choices = `${plural[0].toUpperCase()}${plural.slice(1)} are: ${known.join(', ') || 'none'}`;
  if (!Array.isArray(listed) || listed.length === 0) {
    add(`${at}.${plural}`, `must be a non-empty list of ${kind} names (${known.join(', ')})`);
    return;
  }
  listed.forEach((name: unknown, i) => {
    const place = `${at}.${plural}[${i}]`;
    if (typeof name === 'string' && !known.includes(name) && otherKind.includes(name)) {
      const other = kind === 'pipeline' ? 'flow' : 'pipeline';
      add(place, `"${name}" is a ${other}, not a ${kind}: list it under ${other}s: [${name}]`);
    } else if (typeof name !== 'string' || !known.includes(name))
      add(
        place,
        `unknown ${kind} ${show(name)}${typeof name === 'string' ? didYouMean(name, [...known]) : '.'} ${choices}`,
      );
    else if (listed.indexOf(name) !== i) add(place, `"${name}" is listed twice; list it once`);
  });
}

/**
 * Every problem of parsed subscriptions data (empty when valid), as `<place>: <what to do>`.
 * `flows` are the names of the flows the event router can start.
 */
export function subscriptionProblems(data: unknown, catalog: PipelineCatalog, flows: readonly string[]): string[] {
  const problems: string[] = [];
  const add = (at: string, message: string) => problems.push(`${at}: ${message}`);
  if (!isRecord(data)) return [`(file): must be an object with "topics" (and "inboxes"), not ${typeName(data)}`];
  unknownKeys(data, ['topics', 'inboxes'], '', add);
  const pipelines = [...catalog.keys()];
  const topics = isRecord(data.topics) ? data.topics : undefined;
  if (!topics)
    add('topics', `must map topic names to { pipelines: [...] } or { flows: [...] }, not ${typeName(data.topics)}`);
  for (const [topic, entry] of Object.entries(topics ?? {})) {
    const at = `topics.${topic}`;
    if (!topicPattern.test(topic))
      add(at, 'a topic name is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
    if (!isRecord(entry)) {
      add(at, `must be an object like { pipelines: [signup-notify] }, not ${typeName(entry)}`);
      continue;
    }
    unknownKeys(entry, ['description', 'pipelines', 'flows'], at, add);
    if (entry.description !== undefined && typeof entry.description !== 'string')
      add(`${at}.description`, `must be a string, not ${typeName(entry.description)}`);
    if (entry.pipelines === undefined && entry.flows === undefined) {
      add(
        at,
        `starts nothing: list pipelines: [...] (${pipelines.join(', ')}) and/or flows: [...] (${flows.join(', ')})`,
      );
      continue;
    }
    if (entry.pipelines !== undefined) nameListProblems(entry.pipelines, 'pipeline', pipelines, flows, at, add);
    if (entry.flows !== undefined) nameListProblems(entry.flows, 'flow', flows, pipelines, at, add);
  }
  if (data.inboxes !== undefined && !Array.isArray(data.inboxes))
    add('inboxes', `must be a list of { folder, topic }, not ${typeName(data.inboxes)}`);
  const folders = new Set<string>();
  (Array.isArray(data.inboxes) ? data.inboxes : []).forEach((inbox: unknown, i) => {
    const at = `inboxes[${i}]`;
    if (!isRecord(inbox)) {
      add(at, `must be an object like { folder: inbox/uploads, topic: uploads }, not ${typeName(inbox)}`);
      return;
    }
    unknownKeys(inbox, ['folder', 'topic'], at, add);
    const folder = inbox.folder;
    if (typeof folder !== 'string' || folder === '' || path.isAbsolute(folder) || folder.split(/[\\/]/).includes('..'))
      add(
        `${at}.folder`,
        `${show(folder)} must be a folder inside the data folder, e.g. inbox/uploads (no "..", not absolute)`,
      );
    else if (folders.has(path.normalize(folder))) add(`${at}.folder`, `"${folder}" is watched twice; list it once`);
    else folders.add(path.normalize(folder));
    if (typeof inbox.topic !== 'string' || !topics || !(inbox.topic in topics))
      add(
        `${at}.topic`,
        `unknown topic ${show(inbox.topic)}${typeof inbox.topic === 'string' ? didYouMean(inbox.topic, Object.keys(topics ?? {})) : '.'} Define it under topics first.`,
      );
  });
  return problems;
}

/**
 * Reads and validates a subscriptions file against the catalog and the startable `flows`; inbox
 * folders become absolute under `dataDir`.
 */
export function loadSubscriptions(
  file: string,
  catalog: PipelineCatalog,
  dataDir: string,
  flows: readonly string[],
): Subscriptions {
  let data: unknown;
  try {
    data = parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read subscriptions ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const problems = subscriptionProblems(data, catalog, flows);
  if (problems.length > 0)
    throw new Error([`Subscriptions ${file} are invalid:`, ...problems.map((p) => `  - ${p}`)].join('\n'));
  const valid = data as {
    topics: Record<string, { description?: string; pipelines?: string[]; flows?: string[] }>;
    inboxes?: { folder: string; topic: string }[];
  };
  return {
    topics: Object.fromEntries(
      Object.entries(valid.topics).map(([topic, t]) => [
        topic,
        { description: t.description ?? '', pipelines: t.pipelines ?? [], flows: t.flows ?? [] },
      ]),
    ),
    inboxes: (valid.inboxes ?? []).map((inbox) => ({ folder: path.join(dataDir, inbox.folder), topic: inbox.topic })),
  };
}
