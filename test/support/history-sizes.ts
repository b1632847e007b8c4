/**
 * The largest events of a run's real histories: the run (every execution of its continue-as-new
 * chain), its partitions and their children, fetched from the server and measured as encoded
 * protobuf, the size Temporal checks against its payload and event limits.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

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
}

const eventTypeName = (t: unknown) => temporal.api.enums.v1.EventType[t as number] ?? String(t);

export async function measureHistories(client: Client, workflowId: string): Promise<HistorySizes> {
  const sizes: HistorySizes = { workflows: 0, events: 0, largest: { workflowId, eventType: '', bytes: 0 }, byType: {} };
  const pending: { workflowId: string; runId?: string }[] = [{ workflowId }];
  while (pending.length > 0) {
    const { workflowId: id, runId } = pending.pop()!;
    const history = await client.workflow.getHandle(id, runId).fetchHistory();
    sizes.workflows += 1;
    for (const event of history.events ?? []) {
      sizes.events += 1;
      const bytes = temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
      const type = eventTypeName(event.eventType);
      sizes.byType[type] = Math.max(sizes.byType[type] ?? 0, bytes);
      if (bytes > sizes.largest.bytes) sizes.largest = { workflowId: id, eventType: type, bytes };
      const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId) pending.push({ workflowId: child.workflowId, runId: child.runId ?? undefined });
      const previous = event.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
      if (previous) pending.push({ workflowId: id, runId: previous });
    }
  }
  return sizes;
}
