/**
 * The event router (the seeds' pub/sub, on Temporal): an event published to a topic starts every
 * pipeline subscribed to it, on one item made of the event, and every subscribed flow (transcode,
 * signup: src/client/flow-subscribers.ts), on the event's data. Delivery is at-least-once from the
 * publisher and at-most-once per (event, subscriber) here: each run's workflow ID is named after
 * the event (`<pipeline>/event-<eventId>`, or the flow's own, e.g. `signup/<userId>`) and the
 * server refuses a second start of it, while it runs and after it finished, so publishing again is
 * always safe (e.g. after a timeout, or a crash before an inbox ledger write).
 */
import type { Client } from '@temporalio/client';
import type { PipelineCatalog } from '../pipelines/catalog';
import { didYouMean } from '../pipelines/did-you-mean';
import type { Subscriptions } from '../pipelines/subscriptions';
import type { BatchConfig } from '../infra/config';
import { validateItemId } from '../sources/item-id';
import type { EventRun, FlowStart, PipelineEvent } from '../core/pipeline-event';
import { submitPipelineRun } from './pipeline-run';
import { refusedBuildEvent } from '../activities/ci-merge/build-requests';

/**
 * A flow as a subscriber: checks the event (throws UnusableEventError when the flow cannot take
 * it) and returns how to start the flow on it as run `run`. Checking comes first so that an event
 * one subscriber refuses starts nothing at all.
 */
export type FlowSubscriber = (event: PipelineEvent, run: string) => Promise<() => Promise<FlowStart>>;

/** An event for a topic the subscriptions do not name. */
export class UnknownTopicError extends Error {
  constructor(
    readonly topic: string,
    readonly known: string[],
  ) {
    super(
      `No topic "${topic}"${didYouMean(topic, known)} Topics are: ${known.join(', ') || 'none'} (pipelines/subscriptions.yaml).`,
    );
    this.name = 'UnknownTopicError';
  }
}

/** An event whose data a subscribed flow cannot take; the message says what to send instead. */
export class UnusableEventError extends Error {
  override name = 'UnusableEventError';
}

export const eventRunName = (eventId: string) => `event-${eventId}`;

export class EventRouter {
  constructor(
    private readonly client: Client,
    private readonly config: BatchConfig,
    private readonly catalog: PipelineCatalog,
    readonly subscriptions: Subscriptions,
    private readonly flows: Readonly<Record<string, FlowSubscriber>>,
  ) {
    for (const [topic, { flows: listed }] of Object.entries(subscriptions.topics)) {
      const missing = listed.filter((flow) => !(flow in flows));
      if (missing.length > 0)
        throw new Error(
          `Topic ${topic} subscribes flow(s) ${missing.join(', ')} that this router cannot start; routable flows: ${Object.keys(flows).join(', ')}.`,
        );
    }
  }

  /**
   * The checks of `publish` without starting anything (unknown topic, bad ID, data a subscriber
   * cannot take): what a publisher to Kafka runs first, so a bad event is refused to its sender
   * rather than dead-lettered later.
   */
  async check(topic: string, event: PipelineEvent): Promise<void> {
    await this.prepare(topic, event);
  }

  private async prepare(topic: string, event: PipelineEvent) {
    const subscription = this.subscriptions.topics[topic];
    if (!subscription) throw new UnknownTopicError(topic, Object.keys(this.subscriptions.topics));
    validateItemId(event.id, `Event on topic ${topic}`); // it names workflow IDs
    const run = eventRunName(event.id);
    const refused = await refusedBuildEvent(
      subscription.pipelines.map((p) => this.catalog.get(p)!.spec),
      event.data,
    );
    if (refused) throw new UnusableEventError(`Event ${event.id} on topic ${topic}: ${refused}`);
    const flowStarts = await Promise.all(
      subscription.flows.map(async (flow) => ({ flow, start: await this.flows[flow](event, run) })),
    );
    return { subscription, run, flowStarts };
  }

  /** Starts the topic's pipelines and flows for the event (or finds the runs it started before). */
  async publish(topic: string, event: PipelineEvent): Promise<EventRun[]> {
    const { subscription, run, flowStarts } = await this.prepare(topic, event);
    const pipelineRuns = subscription.pipelines.map(async (pipeline): Promise<EventRun> => {
      const spec = this.catalog.get(pipeline)!.spec; // subscriptions are validated against the catalog
      const item = { id: event.id, origin: topic, data: event.data };
      const { handle, started } = await submitPipelineRun(
        this.client,
        this.config,
        spec,
        { items: [item] },
        { runName: run },
      );
      return { pipeline, run, workflowId: handle.workflowId, started };
    });
    const flowRuns = flowStarts.map(async ({ flow, start }): Promise<EventRun> => ({ flow, run, ...(await start()) }));
    return Promise.all([...pipelineRuns, ...flowRuns]);
  }
}
