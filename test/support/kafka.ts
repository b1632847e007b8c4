/**
 * Kafka for the tests: one real broker per test process (started on free ports in a temp folder,
 * stopped by the root hook's stopAll), and a `start` that really starts a workflow on the shared
 * dev server, with the workflow ID derived from the event ID as the router does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Consumer, type Message } from '@platformatic/kafka';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { type KafkaBroker, startKafkaBroker } from '../../src/devstack/kafka-broker';
import { freePort } from '../../src/infra/wait';
import type { StartOutcome } from '../../src/topics/kafka-consumer';
import type { TopicEvent } from '../../src/topics/topic-events';

let broker: Promise<KafkaBroker> | undefined;

export function sharedKafkaBroker(): Promise<KafkaBroker> {
  broker ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-kafka-'));
    // The root hook's stopAll stops the broker before mocha exits; its data goes with the run.
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    return startKafkaBroker({ dir, port: await freePort(), controllerPort: await freePort() });
  })();
  return broker;
}

/** The workflow an event starts in these tests: `signup`, the smallest flow, never run (no worker polls the queue). */
export const testWorkflowType = 'signup';
export const workflowIdFor = (prefix: string, eventId: string) => `${prefix}/${eventId}`;

/** Starts one workflow per event ID; a second start of the same ID is refused by the server: deduplicated. */
export function temporalStart(client: Client, taskQueue: string, prefix: string) {
  return async (event: TopicEvent): Promise<StartOutcome> => {
    try {
      await client.workflow.start(testWorkflowType, {
        taskQueue,
        workflowId: workflowIdFor(prefix, event.id),
        args: [{ userId: event.key ?? event.id, ...event.data }],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: {
          topic: event.position.topic,
          partition: event.position.partition,
          offset: String(event.position.offset),
        },
      });
      return 'started';
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return 'deduplicated';
      throw error;
    }
  };
}

export interface StartedRun {
  workflowId: string;
  runId: string;
  startTime: Date;
}

/**
 * Every run (of any ID, open or closed) on the task queue, oldest first, once there are at least
 * `atLeast` (visibility lags the starts by a moment).
 */
export async function runsOn(client: Client, taskQueue: string, atLeast = 0): Promise<StartedRun[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const runs: StartedRun[] = [];
    for await (const execution of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
      runs.push({ workflowId: execution.workflowId, runId: execution.runId, startTime: execution.startTime });
    }
    if (runs.length >= atLeast || Date.now() > deadline) {
      return runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Ends the test's never-run workflows, so the shared dev server does not keep them open. */
export async function terminateRunsOn(client: Client, taskQueue: string): Promise<void> {
  for await (const execution of client.workflow.list({
    query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`,
  })) {
    await client.workflow
      .getHandle(execution.workflowId, execution.runId)
      .terminate('kafka test done')
      .catch(() => undefined);
  }
}

/** Reads a whole topic from the start (a throwaway group), until `count` records arrived. */
export async function readTopic(
  brokers: string[],
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<Message<Buffer, Buffer, Buffer, Buffer>[]> {
  const consumer = new Consumer({
    groupId: `reader-${process.pid}-${Date.now()}`,
    clientId: 'test-reader',
    bootstrapBrokers: brokers,
    autocommit: false,
    maxWaitTime: 200,
  });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
  const records: Message<Buffer, Buffer, Buffer, Buffer>[] = [];
  const timer = setTimeout(() => void stream.close(), timeoutMs);
  try {
    for await (const message of stream) {
      records.push(message);
      if (records.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    await stream.close().catch(() => undefined);
    await (consumer.close(true) as unknown as Promise<void>).catch(() => undefined);
  }
  return records;
}
