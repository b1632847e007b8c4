/**
 * The sizes of a run's real histories: the run (every execution of its continue-as-new chain),
 * its partitions and their children, fetched from the server and measured as encoded protobuf,
 * the size Temporal checks against its limits (2 MB a payload, 50 MB a history). Used by the
 * scale test and by scripts/scale-check.ts and scripts/scale-transcode.ts.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

export interface LargestEvent {
  workflowId: string;
  eventType: string;
  bytes: number;
}

export interface HistorySizes {
  workflows: number;
  events: number;
  largest: LargestEvent;
  /** The largest event of each type. */
  byType: Record<string, number>;
  /** The largest payload (data and metadata) of any input or result, and where it is. */
  largestPayload: { bytes: number; where: string };
  /** The largest history (encoded bytes) and its events. */
  longest: { workflowId: string; events: number; bytes: number };
}

const eventTypeName = (t: unknown) => temporal.api.enums.v1.EventType[t as number] ?? String(t);

/** Bytes of a Payloads message as the 2 MB payload limit counts them. */
function payloadBytes(p: Payloads): number {
  let n = 0;
  for (const payload of p?.payloads ?? []) {
    n += payload.data?.length ?? 0;
    for (const value of Object.values(payload.metadata ?? {})) n += value.length;
  }
  return n;
}

/** The inputs and results an event carries, each with what it is (e.g. "activity input (probe)"). */
function eventPayloads(e: HistoryEvent): [string, Payloads][] {
  const type =
    e.activityTaskScheduledEventAttributes?.activityType?.name ??
    e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name;
  const found: [string, Payloads][] = [
    ['workflow input', e.workflowExecutionStartedEventAttributes?.input],
    ['workflow result', e.workflowExecutionCompletedEventAttributes?.result],
    ['continue-as-new input', e.workflowExecutionContinuedAsNewEventAttributes?.input],
    ['activity input', e.activityTaskScheduledEventAttributes?.input],
    ['activity result', e.activityTaskCompletedEventAttributes?.result],
    ['child input', e.startChildWorkflowExecutionInitiatedEventAttributes?.input],
    ['child result', e.childWorkflowExecutionCompletedEventAttributes?.result],
  ];
  return found.map(([what, payloads]) => [type ? `${what} (${type})` : what, payloads]);
}

export async function measureHistories(client: Client, workflowId: string): Promise<HistorySizes> {
  const sizes: HistorySizes = {
    workflows: 0,
    events: 0,
    largest: { workflowId, eventType: '', bytes: 0 },
    byType: {},
    largestPayload: { bytes: 0, where: '' },
    longest: { workflowId, events: 0, bytes: 0 },
  };
  const pending: { workflowId: string; runId?: string }[] = [{ workflowId }];
  while (pending.length > 0) {
    const { workflowId: id, runId } = pending.pop()!;
    const history = await client.workflow.getHandle(id, runId).fetchHistory();
    sizes.workflows += 1;
    const historyBytes = temporal.api.history.v1.History.encode(history).finish().length;
    if (historyBytes > sizes.longest.bytes) {
      sizes.longest = { workflowId: id, events: history.events?.length ?? 0, bytes: historyBytes };
    }
    for (const event of history.events ?? []) {
      sizes.events += 1;
      const bytes = temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
      const type = eventTypeName(event.eventType);
      sizes.byType[type] = Math.max(sizes.byType[type] ?? 0, bytes);
      if (bytes > sizes.largest.bytes) sizes.largest = { workflowId: id, eventType: type, bytes };
      for (const [what, payloads] of eventPayloads(event)) {
        const size = payloadBytes(payloads);
        if (size > sizes.largestPayload.bytes) sizes.largestPayload = { bytes: size, where: `${what} in ${id}` };
      }
      const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId) pending.push({ workflowId: child.workflowId, runId: child.runId ?? undefined });
      const previous = event.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
      if (previous) pending.push({ workflowId: id, runId: previous });
    }
  }
  return sizes;
}
