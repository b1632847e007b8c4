/**
 * Checks of a stage's `sink` (see SinkSpec in spec.ts): only a `publish-to-topic` stage has one,
 * and it must name a topic that pipelines/subscriptions.yaml can subscribe pipelines to. Workflow code imports the validator, so this
 * is pure and deterministic: plain TypeScript, no Node built-ins, no clock, no randomness, no I/O.
 */
import { didYouMean } from './did-you-mean';
import { isRecord, show, typeName } from './predicate';
import { type Problems, setKeys } from './validate-common';

/** The activity that publishes a stage's items to its sink topic (src/activities/pipeline/topic-sink.ts). */
export const sinkActivity = 'publish-to-topic';

const sinkProperties = ['topic'] as const;

/**
 * A topic a subscription can name (pipelines/subscriptions.yaml; also valid in Kafka): 1–64
 * letters, digits, '.', '_' or '-', starting with a letter or digit.
 */
export const sinkTopicPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const example = '{ "topic": "tagged-images" }';

export function checkSink(problems: Problems, path: string, stage: Record<string, unknown>): void {
  const { add } = problems;
  const at = `${path}.sink`;
  const sink = stage.sink;
  if (stage.activity !== sinkActivity) {
    if (sink !== undefined)
      add(
        at,
        `only a "${sinkActivity}" stage publishes to a topic; set "activity": "${sinkActivity}" here, or add a stage with it after this one and remove "sink"`,
      );
    return;
  }
  if (sink === undefined) {
    add(at, `missing sink; a "${sinkActivity}" stage names the Kafka topic its items go to, e.g. "sink": ${example}`);
    return;
  }
  if (!isRecord(sink)) {
    add(at, `must be an object like ${example}, not ${typeName(sink)}`);
    return;
  }
  for (const key of setKeys(sink)) {
    if (!(sinkProperties as readonly string[]).includes(key))
      add(
        `${at}.${key}`,
        `unknown property "${key}" of a sink${didYouMean(key, sinkProperties)} Allowed properties: ${sinkProperties.join(', ')}`,
      );
  }
  const topic = sink.topic;
  if (topic === undefined) add(`${at}.topic`, `missing topic; name the Kafka topic, e.g. ${example}`);
  else if (typeof topic !== 'string') add(`${at}.topic`, `must be a topic name (a string), not ${typeName(topic)}`);
  else if (!sinkTopicPattern.test(topic)) {
    const suggestion = topic
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 64)
      .replace(/-+$/, '');
    const hint = sinkTopicPattern.test(suggestion) ? `; e.g. "${suggestion}"` : '';
    add(
      `${at}.topic`,
      `${show(topic)} is not a topic name a subscription can take: use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit${hint}`,
    );
  }
  const retry = stage.retry;
  if (isRecord(retry) && retry.maximumAttempts !== undefined)
    add(
      `${path}.retry.maximumAttempts`,
      'a sink waits out broker outages (an outage must never dead-letter an item); remove maximumAttempts: attempts are then unlimited',
    );
}
