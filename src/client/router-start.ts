/**
 * The consumer's `start` for the project's event router (src/client/event-router.ts): an event
 * read from topic T starts T's subscribed pipelines and flows, exactly as `POST /topics/T/events`
 * does. Refusals that no retry can change (unknown topic, data a subscriber cannot take, a path
 * outside the input roots) become PoisonEventErrors, so the record is dead-lettered; anything
 * else (Temporal unreachable) is left to the consumer's pause-and-retry.
 */
import { type EventRouter, UnknownTopicError, UnusableEventError } from './event-router';
import { InputPathError, resolveUnderRoots } from '../sources/input-roots';
import { PoisonEventError, type StartOutcome } from '../topics/kafka-consumer';
import type { TopicEvent } from '../topics/topic-events';

export function routerStart(
  router: Pick<EventRouter, 'publish'>,
  inputRoots: readonly string[],
  baseDir: string,
): (event: TopicEvent) => Promise<StartOutcome> {
  return async (event) => {
    const topic = event.position.topic;
    let data = event.data;
    try {
      // Records are untrusted like API requests: a file an event points at must lie under the input roots.
      if (data.path !== undefined) {
        if (typeof data.path !== 'string')
          throw new PoisonEventError(`data.path must be a string (a file path), not ${typeof data.path}.`);
        data = { ...data, path: await resolveUnderRoots('data.path', data.path, inputRoots, baseDir) };
      }
      const runs = await router.publish(topic, { id: event.id, data });
      return runs.some((run) => run.started) ? 'started' : 'deduplicated';
    } catch (error) {
      if (
        error instanceof UnknownTopicError ||
        error instanceof UnusableEventError ||
        error instanceof InputPathError
      ) {
        throw new PoisonEventError(error.message, { cause: error });
      }
      throw error;
    }
  };
}
