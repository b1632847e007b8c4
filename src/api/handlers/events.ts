/**
 * GET /topics and POST /topics/{topic}/events: the subscriptions, and publishing an event that
 * the event router (src/client/event-router.ts) turns into one run per subscribed pipeline and
 * flow, at most once per event ID.
 */
import { type PipelineEvent, UnknownTopicError } from '../../client/event-router';
import type { ApiContext, ApiRequest, ApiResponse } from '../context';
import { withPathsUnderRoots } from '../input-roots';
import type { PublishEventRequest } from '../schemas';
import { eventRunRef } from './run-ref';

export async function listTopics(_req: ApiRequest, ctx: ApiContext): Promise<ApiResponse> {
  const { topics, inboxes } = ctx.router.subscriptions;
  const body = Object.entries(topics).map(([topic, t]) => ({
    topic,
    description: t.description,
    pipelines: t.pipelines,
    flows: t.flows,
    inboxes: inboxes.filter((i) => i.topic === topic).map((i) => i.folder),
  }));
  return { status: 200, body: { topics: body } };
}

export async function publishEvent(
  req: ApiRequest<{ topic: string }, PublishEventRequest>,
  ctx: ApiContext,
): Promise<ApiResponse> {
  const topic = req.params.topic;
  // Own topics only: "__proto__" or "constructor" must not find Object.prototype's members.
  const { topics } = ctx.router.subscriptions;
  if (!Object.hasOwn(topics, topic)) throw new UnknownTopicError(topic, Object.keys(topics));
  const body = req.body;
  const [checked] = await withPathsUnderRoots(
    [{ data: body.data ?? {} }],
    () => '',
    ctx.config.api.inputRoots,
    ctx.baseDir,
  );
  const event: PipelineEvent = { id: body.id, data: checked.data };
  const runs = await ctx.router.publish(topic, event);
  const started = runs.some((r) => r.started);
  // 202: at least one run started now; 200: a repeat of an event already delivered, nothing new.
  return {
    status: started ? 202 : 200,
    body: { topic, event: event.id, runs: runs.map((r) => eventRunRef(ctx, r)) },
  };
}
