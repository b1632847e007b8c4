/**
 * An event as publishers send it (HTTP topics, the inbox, Kafka) and the runs it starts: plain
 * types shared by the sources that make events and the router that starts runs on them.
 */
export interface PipelineEvent {
  /** The publisher's ID of the event: the same ID is the same event, delivered once. */
  id: string;
  /** The event's content: the `data` of the run's one item, or a flow's input. */
  data: Record<string, unknown>;
}

/** A run an event started, or found started by an earlier delivery: of a pipeline, or of a flow. */
export type EventRun = ({ pipeline: string } | { flow: string }) & {
  run: string;
  workflowId: string;
  /** False when this event had already started it: nothing new was started. */
  started: boolean;
};

/** What starting a flow on an event gave: its workflow, and whether this call started it. */
export interface FlowStart {
  workflowId: string;
  started: boolean;
}
