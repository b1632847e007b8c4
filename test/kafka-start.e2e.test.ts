/**
 * `npm start -- --s3 --kafka` as a person runs it: the stack starts the project's Kafka broker over
 * `<dataDir>/kafka/` (supervised: SIGKILLed, it comes back on the same port and folder) and the S3
 * gateway notifying it, so a video put into the uploads bucket starts its transcode; the demo
 * publishes a sign-up event through Kafka and prints where it was written and the run the consumer
 * group started, the API queues events on Kafka, and Ctrl-C leaves no process behind. A bad
 * BATCH_KAFKA_BROKERS stops it before anything starts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { S3ObjectStore } from '../src/storage/s3-store';
import { runningGatewayStorage } from '../src/devstack/stack-storage';
import { portOpen, waitFor } from '../src/infra/wait';
import { sampleVideos } from './support/media';
import { privateStackEnv, processesMentioning, runStart } from './support/start-run';

describe('npm start -- --s3 --kafka (the Kafka broker in the stack, the gateway notifying it)', function () {
  this.timeout(240_000);
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-start-kafka-'));
    env = {
      ...(await privateStackEnv(dataDir, ['BATCH_KAFKA_PORT', 'BATCH_KAFKA_CONTROLLER_PORT', 'BATCH_S3_PORT'])),
      BATCH_API_TOKEN: 'kafka-start-token',
    };
    delete process.env.TEMPORAL_ADDRESS;
    delete process.env.BATCH_STORAGE;
    delete process.env.BATCH_KAFKA_BROKERS;
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('starts the broker, transcodes an upload through Kafka, sends a sign-up through Kafka, queues API events there and restarts a SIGKILLed broker', async () => {
    const [video] = await sampleVideos();
    const kafkaDir = path.join(dataDir, 'kafka');
    const seen: { queued?: { status: number; body: any }; restartedPid?: number; transcode?: string } = {};
    const run = await runStart(['--s3', '--kafka', '--no-flows', '--run', 'kdemo', video], env, async (output) => {
      // CatTube: any S3 client's upload into the uploads bucket → bucket notification → Kafka → transcode.
      const endpoint = `http://127.0.0.1:${env.BATCH_S3_PORT}`;
      const uploads = new S3ObjectStore(runningGatewayStorage(path.join(dataDir, 's3'), endpoint, 'uploads').s3!);
      const connection = await Connection.connect({ address: `127.0.0.1:${env.TEMPORAL_DEV_PORT}` });
      try {
        await uploads.putFile('cats/clip.mp4', video);
        const client = new Client({ connection });
        await waitFor(
          'the upload to start its transcode',
          async () => {
            for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH 'transcode/event-s3-'` })) {
              seen.transcode = wf.workflowId;
            }
            return seen.transcode !== undefined;
          },
          60_000,
          500,
        );
      } finally {
        uploads.client.destroy();
        await connection.close();
      }
      const [broker] = processesMentioning(path.join(kafkaDir, 'server.properties'));
      assert.ok(broker, 'the broker runs over <dataDir>/kafka');
      process.kill(broker.pid, 'SIGKILL');
      await waitFor(
        'the broker to be restarted',
        async () => /the Kafka broker is running again/.test(output()),
        90_000,
      );
      seen.restartedPid = processesMentioning(path.join(kafkaDir, 'server.properties'))[0]?.pid;
      // The API publishes to the restarted broker (same port, the topics kept).
      let answer: Response | undefined;
      await waitFor(
        'the API to queue an event on the restarted broker',
        async () => {
          answer = await fetch(`http://127.0.0.1:${env.BATCH_API_PORT}/topics/uploads/events`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${env.BATCH_API_TOKEN}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ id: 'after-restart', data: { note: 'hello' } }),
          });
          return answer.status !== 503;
        },
        60_000,
        500,
      );
      seen.queued = { status: answer!.status, body: await answer!.json() };
    });
    assert.match(run.output, /Starting the Kafka broker on 127\.0\.0\.1:\d+/);
    assert.match(run.output, new RegExp(`Kafka 4\\.\\d+\\.\\d+ broker on 127\\.0\\.0\\.1:${env.BATCH_KAFKA_PORT}`));
    assert.match(
      run.output,
      /Kafka: published sign-up event signup-kafka-kdemo to topic signups, partition \d+, offset \d+ \(key kafka-kdemo\)/,
    );
    assert.match(run.output, /Kafka: the consumer group started signup\/kafka-kdemo from it: http:\/\/.*\/history/);
    assert.match(run.output, /Topics on Kafka at 127\.0\.0\.1:\d+: consumer group batch-router/);
    assert.match(run.output, /Thumbnailer run: 1 items, 1 succeeded, 0 failed/, run.output);
    assert.match(run.output, /the Kafka broker exited \(signal SIGKILL\); restarting \(1 of 5\)/);
    assert.match(run.output, /Stopping the API, workers, the S3 gateway, the Kafka broker and the Temporal server/);
    assert.match(run.output, /CatTube: a video put into bucket uploads with any S3 client is transcoded through Kafka/);
    assert.match(seen.transcode ?? '', /^transcode\/event-s3-/, 'the upload started a transcode');
    assert.ok(seen.restartedPid, 'a new broker runs');
    assert.equal(seen.queued?.status, 202, JSON.stringify(seen.queued?.body));
    assert.equal(seen.queued?.body.queued.topic, 'uploads');
    assert.equal(await portOpen(Number(env.BATCH_KAFKA_PORT)), false, 'Ctrl-C stopped the broker');
    assert.deepEqual(processesMentioning(dataDir), [], 'no process left behind');
  });

  it('stops before starting anything when BATCH_KAFKA_BROKERS is not host:port', async () => {
    const run = await runStart(['--kafka', '--once'], { ...env, BATCH_KAFKA_BROKERS: 'kafka.example.com' });
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /BATCH_KAFKA_BROKERS: "kafka\.example\.com" is not host:port; use e\.g\./);
    assert.doesNotMatch(run.output, /Starting the Temporal dev server|Starting the Kafka broker/);
  });
});
