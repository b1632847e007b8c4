/**
 * The event router (the seeds' pub/sub, on Temporal): an event published to a topic starts every
 * pipeline subscribed to it, on one item made of the event. Delivery is at-least-once from the
 * publisher and at-most-once per (event, pipeline) here: the run's workflow ID is
 * `<pipeline>/event-<eventId>` with reuse policy REJECT_DUPLICATE, so the server refuses a
 * second start of the same event, while it runs and after it finished, and publishing again is
 * always safe (e.g. after a timeout, or a crash before an inbox ledger write).
 */
import type { Client } from '@temporalio/client';
import type { PipelineCatalog } from '../pipelines/catalog';
import { didYouMean } from '../pipelines/predicate';
import type { Subscriptions } from '../pipelines/subscriptions';
import type { BatchConfig } from '../runtime/config';
import { validateItemId } from '../sources/item-id';
import { submitPipelineRun } from './pipeline-run';

export interface PipelineEvent {
  /** The publisher's ID of the event: the same ID is the same event, delivered once. */
  id: string;
  /** The event's content: the `data` of the run's one item. */
  data: Record<string, unknown>;
}

export interface EventRun {
  pipeline: string;
  run: string;
  workflowId: string;
  /** False when this event had already started this pipeline: nothing new was started. */
  started: boolean;
}

/** An event for a topic no pipeline subscribes to. */
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

export const eventRunName = (eventId: string) => `event-${eventId}`;

export class EventRouter {
  constructor(
    private readonly client: Client,
    private readonly config: BatchConfig,
    private readonly catalog: PipelineCatalog,
    readonly subscriptions: Subscriptions,
  ) {}

  /** Starts the topic's pipelines for the event (or finds the runs it started before). */
  async publish(topic: string, event: PipelineEvent): Promise<EventRun[]> {
    const subscription = this.subscriptions.topics[topic];
    if (!subscription) throw new UnknownTopicError(topic, Object.keys(this.subscriptions.topics));
    validateItemId(event.id, `Event on topic ${topic}`); // it names workflow IDs
    const run = eventRunName(event.id);
    return Promise.all(
      subscription.pipelines.map(async (pipeline) => {
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
      }),
    );
  }
}
