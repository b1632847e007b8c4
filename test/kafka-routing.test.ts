/**
 * Kafka in front of the project's real event router (pipelines/subscriptions.yaml): an event
 * published to the `signups` topic starts the subscribed pipeline and the sign-up flow, once per
 * event ID; events the subscribers refuse, or that point outside the input roots, become dead
 * letters with the subscriber's reason.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { EventRouter } from '../src/client/event-router';
import { createFlowSubscribers, subscribableFlows } from '../src/client/flow-subscribers';
import { pipelineWorkflowId } from '../src/client/pipeline-run';
import { examplesDir, loadPipelineCatalog } from '../src/pipelines/catalog';
import { loadSubscriptions, subscriptionsFile } from '../src/pipelines/subscriptions';
import { BlobStore } from '../src/storage/blob-store';
import { repoRoot } from '../src/infra/paths';
import { waitFor } from '../src/infra/wait';
import type { DeadLetter } from '../src/topics/dead-letters';
import type { RecordReport } from '../src/topics/kafka-consumer';
import { type KafkaRouting, startKafkaRouting } from '../src/client/kafka-routing';
import { signupWorkflowId } from '../src/workflows/flows/signup';
import { isolatedConfig } from './support/config';
import { readTopic, sharedKafkaBroker } from './support/kafka';
import { sharedDevServer } from './support/servers';

describe('Kafka routing through the event router', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let routing: KafkaRouting | undefined;
  let dataDir: string | undefined;
  const started: string[] = [];

  before(async () => {
    env = await sharedDevServer();
  });
  after(async () => {
    await routing?.stop();
    for (const id of started)
      await env.client.workflow
        .getHandle(id)
        .terminate('test done')
        .catch(() => undefined);
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts the subscribed pipeline and flow once per event, and dead-letters refused events with the reason', async () => {
    const broker = await sharedKafkaBroker();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-kafka-routing-'));
    const inputs = path.join(dataDir, 'inputs');
    fs.mkdirSync(inputs);
    const base = isolatedConfig(env.address);
    const config = { ...base, api: { ...base.api, inputRoots: [inputs] } };
    const catalog = loadPipelineCatalog(examplesDir);
    const subscriptions = loadSubscriptions(subscriptionsFile, catalog, dataDir, subscribableFlows);
    const flows = createFlowSubscribers({
      client: env.client,
      config,
      store: new BlobStore(path.join(dataDir, 'blobs')),
      baseDir: repoRoot,
    });
    const router = new EventRouter(env.client, config, catalog, subscriptions, flows);
    const reports: RecordReport[] = [];
    const deadLetterTopic = `dead.routing${process.pid}`;
    routing = await startKafkaRouting({
      brokers: [broker.bootstrap],
      router,
      inputRoots: config.api.inputRoots,
      baseDir: repoRoot,
      groupId: `routing-${process.pid}`,
      deadLetterTopic,
      consumer: { sessionTimeoutMs: 3000, onRecord: (report) => reports.push(report) },
    });

    const userId = `kafka-user-${process.pid}`;
    const signup = { id: `kafka-signup-${process.pid}`, data: { userId, email: `${userId}@example.com` } };
    await routing.publish('signups', signup); // keyed by data.userId
    await routing.publish('signups', signup); // the publisher's retry: same event ID
    await routing.publish('signups', { id: `kafka-bad-${process.pid}`, data: { userId } }); // no email
    await routing.publish('videos', { id: `kafka-video-${process.pid}`, data: { path: '/etc/passwd' } });
    await waitFor('4 records handled', async () => reports.length >= 4, 60_000, 100);

    const bySignup = reports.filter((r) => r.position.topic === 'signups');
    assert.deepEqual(
      bySignup.map((r) => [r.outcome, r.events]),
      [
        ['started', [{ id: signup.id, outcome: 'started' }]],
        ['started', [{ id: signup.id, outcome: 'deduplicated' }]],
        ['dead-lettered', []],
      ],
    );
    const ids = [pipelineWorkflowId('signup-notify', `event-${signup.id}`), signupWorkflowId(userId)];
    started.push(...ids);
    for (const id of ids) assert.equal((await env.client.workflow.getHandle(id).describe()).status.name, 'RUNNING');

    const letters = (await readTopic([broker.bootstrap], deadLetterTopic, 2)).map(
      (m) => JSON.parse(m.value.toString()) as DeadLetter,
    );
    const reasons = Object.fromEntries(letters.map((l) => [l.topic, l.reason]));
    assert.match(reasons.signups, /The sign-up flow cannot take this event/);
    assert.match(reasons.videos, /data\.path \/etc\/passwd is outside the input roots/);
  });
});
