/**
 * CatTube end to end, every part real: a video PUT into the uploads bucket of the project's S3
 * gateway (Versity) with the AWS SDK → the gateway's object-created notification on Kafka → the
 * router's consumer group → one transcode run on Temporal → a video worker (S3 settings, its own
 * data folder) → renditions and manifest in the project's bucket, readable by ffprobe. The same
 * bytes uploaded again under the same key start nothing; a text file, a fake video and an object
 * of another bucket are refused with their reasons; the project's own writes start nothing; an
 * upload whose notification was lost is started by the rescan, which starts nothing twice.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { readRendition } from '../src/activities/transcode/read-back';
import { ladderFor, RENDITIONS } from '../src/activities/transcode/renditions';
import { bucketEventsTopic, uploadsBucketFromEnv } from '../src/client/bucket-uploads';
import { EventRouter, eventRunName } from '../src/client/event-router';
import { createFlowSubscribers, subscribableFlows } from '../src/client/flow-subscribers';
import { transcodeWorkflowId } from '../src/client/transcode';
import { examplesDir, loadPipelineCatalog } from '../src/pipelines/catalog';
import { loadSubscriptions, subscriptionsFile } from '../src/pipelines/subscriptions';
import { BlobStore } from '../src/storage/blob-store';
import { repoRoot } from '../src/infra/paths';
import { generateSampleVideos } from '../src/devstack/sample-videos';
import { startS3Gateway, type S3Gateway } from '../src/devstack/s3-gateway';
import { freePort, portOpen, waitFor } from '../src/infra/wait';
import { S3ObjectStore } from '../src/storage/s3-store';
import { storageEnv } from '../src/storage/storage-config';
import type { DeadLetter } from '../src/topics/dead-letters';
import { objectCreatedEventId } from '../src/topics/event-ids';
import type { RecordReport } from '../src/topics/kafka-consumer';
import { rescanUploads } from '../src/client/bucket-rescan';
import { type KafkaRouting, startKafkaRouting } from '../src/client/kafka-routing';
import { buildWorkflowBundle } from '../src/workers/workflow-bundle';
import { isolatedConfig } from './support/config';
import { startHost, type TestHost } from './support/hosts';
import { readTopic, sharedKafkaBroker } from './support/kafka';
import { outputFolder } from './support/media';
import { sharedDevServer } from './support/servers';

describe('CatTube: an upload to the bucket is transcoded through Kafka', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let gateway: S3Gateway | undefined;
  let routing: KafkaRouting | undefined;
  let worker: TestHost | undefined;
  let s3: S3Client | undefined;
  let store: S3ObjectStore | undefined;

  before(async () => {
    env = await sharedDevServer();
  });
  after(async () => {
    await routing?.stop();
    await worker?.worker.stop();
    s3?.destroy();
    store?.client.destroy();
    await gateway?.stop();
  });

  it('one run per uploaded content, renditions in the bucket, bad uploads dead-lettered with the reason', async () => {
    const broker = await sharedKafkaBroker();
    const brokers = [broker.bootstrap];
    const topic = `${bucketEventsTopic}.cattube${process.pid}`;
    const gatewayDir = outputFolder('s3-cattube');
    gateway = await startS3Gateway({
      dir: gatewayDir,
      port: await freePort(),
      buckets: ['cattube-work'],
      events: { kafkaBrokers: brokers, topic },
    });
    assert.equal(gateway.uploadsBucket, 'uploads');
    const settings = gateway.storage.s3;
    store = new S3ObjectStore(settings);
    // What a user has: any S3 client with the gateway's endpoint and credentials.
    s3 = new S3Client({
      endpoint: gateway.endpoint,
      region: settings.region,
      forcePathStyle: true,
      credentials: { accessKeyId: settings.accessKeyId!, secretAccessKey: settings.secretAccessKey! },
    });

    const config = isolatedConfig(env.address);
    const catalog = loadPipelineCatalog(examplesDir);
    const dataDir = outputFolder('cattube-router');
    const configured = loadSubscriptions(subscriptionsFile, catalog, dataDir, subscribableFlows);
    // The repository's subscription under a topic of this suite's own: the broker is shared by the
    // test process, and other suites' consumers of every subscribed topic must not read these records.
    const subscriptions = { ...configured, topics: { [topic]: configured.topics[bucketEventsTopic] } };
    const flows = createFlowSubscribers({ client: env.client, config, store: new BlobStore(store), baseDir: repoRoot });
    const router = new EventRouter(env.client, config, catalog, subscriptions, flows);
    const reports: RecordReport[] = [];
    const deadLetterTopic = `dead.cattube${process.pid}`;
    routing = await startKafkaRouting({
      brokers,
      router,
      inputRoots: config.api.inputRoots,
      baseDir: repoRoot,
      groupId: `cattube-${process.pid}`,
      deadLetterTopic,
      consumer: { sessionTimeoutMs: 3000, onRecord: (report) => reports.push(report) },
    });
    worker = await startHost({
      name: 'cattube',
      config,
      storageEnv: storageEnv(gateway.storage),
      roles: 'workflows,video',
      workflowBundlePath: await buildWorkflowBundle(),
    });

    const [video] = await generateSampleVideos(outputFolder('cattube-videos'), () => undefined, [
      { source: 'testsrc2', width: 320, height: 240, seconds: 2, fps: 10 },
    ]);
    const bytes = fs.readFileSync(video);
    const key = 'cats/Kitten Zoomies.mp4';
    const put = await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: key, Body: bytes }));
    const workflowId = transcodeWorkflowId(eventRunName(objectCreatedEventId('uploads', key, put.ETag!)));
    // The Web UI lists the run under an ID that names the object.
    assert.match(workflowId, /^transcode\/event-s3-kitten-zoomies-mp4-[0-9a-f]{24}$/);
    await waitFor('the upload’s transcode run', async () => !!(await runOf(env, workflowId)), 60_000, 200);
    const result = (await env.client.workflow.getHandle(workflowId).result()) as {
      completed: number;
      deadLettered: number;
      deadLetters: unknown[];
    };
    assert.deepEqual([result.completed, result.deadLettered], [1, 0], JSON.stringify(result.deadLetters));

    // Renditions and manifest in the project's bucket, under the upload's content hash.
    const sha256 = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
    const folder = `renditions/${sha256}/`;
    const ladder = ladderFor({ width: 320, height: 240 }).map((r) => r.rendition);
    const keys = (await store.list(folder)).objects.map((o) => o.key);
    assert.deepEqual(keys, [...ladder.map((r) => `${folder}${RENDITIONS[r].file}`), `${folder}manifest.json`].sort());
    const check = outputFolder('cattube-check');
    for (const r of ladder) {
      const file = path.join(check, RENDITIONS[r].file);
      await store.download(`${folder}${RENDITIONS[r].file}`, file);
      const read = await readRendition(file, r, `blob://${folder}${RENDITIONS[r].file}`);
      assert.equal(read.codec, RENDITIONS[r].codec, `${r} is readable by ffprobe`);
    }
    const manifest = JSON.parse((await store.getBytes(`${folder}manifest.json`))!.toString()) as {
      source: { sha256: string };
    };
    assert.equal(manifest.source.sha256, sha256);

    // The same bytes again under the same key: a new notification, the same event, no second run.
    await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: key, Body: bytes }));
    // Bad uploads: text, text named like a video, an object outside the uploads bucket.
    await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'cats/notes.txt', Body: 'not a cat video' }));
    const fake = await s3.send(
      new PutObjectCommand({ Bucket: 'uploads', Key: 'cats/fake.mp4', Body: 'plain text, named .mp4' }),
    );
    await s3.send(new CreateBucketCommand({ Bucket: 'elsewhere' }));
    await s3.send(new PutObjectCommand({ Bucket: 'elsewhere', Key: 'stray.mp4', Body: bytes }));
    // The gateway notifies in order on one partition: once the last upload is handled, all before it are.
    const letters = (await readTopic(brokers, deadLetterTopic, 2, 60_000)).map(
      (m) => JSON.parse(m.value.toString()) as DeadLetter,
    );
    const reasons = letters.map((l) => l.reason).sort();
    assert.equal(reasons.length, 2, JSON.stringify(letters));
    assert.match(
      reasons.find((r) => r.includes('notes.txt'))!,
      /s3:\/\/uploads\/cats\/notes\.txt is not a video \(\.txt\)/,
    );
    assert.match(
      reasons.find((r) => r.includes('stray'))!,
      /s3:\/\/elsewhere\/stray\.mp4 is not in the uploads bucket uploads/,
    );

    // The fake video's run starts (its name says video) and its probe refuses it as bad input, with the reason.
    const fakeId = transcodeWorkflowId(eventRunName(objectCreatedEventId('uploads', 'cats/fake.mp4', fake.ETag!)));
    await waitFor('the fake video’s run', async () => !!(await runOf(env, fakeId)), 60_000, 200);
    const fakeResult = (await env.client.workflow.getHandle(fakeId).result()) as {
      completed: number;
      deadLetters: { stage: string; error: { type: string; message: string } }[];
    };
    assert.equal(fakeResult.completed, 0);
    assert.deepEqual(
      fakeResult.deadLetters.map((l) => [l.stage, l.error.type]),
      [['probe', 'InvalidInput']],
    );
    assert.match(fakeResult.deadLetters[0].error.message, /Cannot read upload "fake\.mp4" as a video/);

    // Exactly one run for the kitten, however often it was notified; the second notification was deduplicated.
    const runs: string[] = [];
    for await (const run of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run.runId);
    assert.equal(runs.length, 1);
    const kitten = reports.filter((r) => r.events.some((e) => e.id === workflowId.slice('transcode/event-'.length)));
    assert.deepEqual(
      kitten.map((r) => r.events[0].outcome),
      ['started', 'deduplicated'],
    );
    // A notification lost (the gateway sends each once, with no retry: an upload while the broker is down has
    // none; here the upload goes through a second gateway on the same folder without events). The rescan
    // publishes every video of the uploads bucket: the known ones find their runs, the missed one starts.
    const quiet = await startS3Gateway({ dir: gatewayDir, port: await freePort(), buckets: [] });
    const quietS3 = new S3Client({
      endpoint: quiet.endpoint,
      region: settings.region,
      forcePathStyle: true,
      credentials: { accessKeyId: settings.accessKeyId!, secretAccessKey: settings.secretAccessKey! },
    });
    const missed = await quietS3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'cats/missed.mp4', Body: bytes }));
    quietS3.destroy();
    await quiet.stop();
    const eventIdOf = (id: string) => id.slice('transcode/event-'.length);
    const missedId = transcodeWorkflowId(
      eventRunName(objectCreatedEventId('uploads', 'cats/missed.mp4', missed.ETag!)),
    );
    const before = reports.length;
    const rescanned = await rescanUploads({
      s3: settings,
      uploads: { bucket: 'uploads', prefix: 'cats/' },
      brokers,
      topic,
    });
    assert.equal(rescanned, 3, 'the three videos (not notes.txt)');
    await waitFor('the rescan’s 3 events handled', async () => reports.length - before >= 3, 60_000, 100);
    const outcomes = Object.fromEntries(
      reports
        .slice(before)
        .flatMap((r) => r.events)
        .map((e) => [e.id, e.outcome]),
    );
    assert.deepEqual(
      [outcomes[eventIdOf(workflowId)], outcomes[eventIdOf(fakeId)], outcomes[eventIdOf(missedId)]],
      ['deduplicated', 'deduplicated', 'started'],
    );
    const missedResult = (await env.client.workflow.getHandle(missedId).result()) as { completed: number };
    assert.equal(missedResult.completed, 1);

    // The project's own writes (the blob, renditions, manifests, results) were notified too: they
    // started nothing and dead-lettered nothing; only the two refused uploads are dead letters.
    const own = reports.filter((r) => r.events.length > 0 && r.events.every((e) => e.outcome === 'deduplicated'));
    assert.ok(own.length >= ladder.length + 2, `the renditions' notifications were handled: ${own.length}`);
    assert.equal(reports.filter((r) => r.outcome === 'dead-lettered').length, 2);
  });

  it('refuses to start bucket events without a reachable broker, saying what to do, and leaves no gateway running', async () => {
    const port = await freePort();
    await assert.rejects(
      startS3Gateway({
        dir: outputFolder('s3-cattube-no-broker'),
        port,
        buckets: ['cattube-work'],
        events: { kafkaBrokers: [`127.0.0.1:${await freePort()}`], topic: bucketEventsTopic },
      }),
      /bucket events need Kafka at 127\.0\.0\.1:\d+, which did not take topic bucket-events .*Start the broker before the gateway, or check BATCH_KAFKA_BROKERS/,
    );
    assert.equal(await portOpen(port), false);
  });

  it('reads the uploads bucket settings, refusing a bad bucket name with what to write', () => {
    assert.deepEqual(uploadsBucketFromEnv({}), { bucket: 'uploads', prefix: '', maxBytes: 20 * 1024 ** 3 });
    assert.deepEqual(
      uploadsBucketFromEnv({
        BATCH_UPLOADS_BUCKET: 'cat-videos',
        BATCH_UPLOADS_PREFIX: '/cats',
        BATCH_UPLOADS_MAX_BYTES: '1000',
      }),
      { bucket: 'cat-videos', prefix: 'cats/', maxBytes: 1000 },
    );
    assert.throws(
      () => uploadsBucketFromEnv({ BATCH_UPLOADS_BUCKET: 'Cat_Videos' }),
      /BATCH_UPLOADS_BUCKET=Cat_Videos is not a bucket name: 3-63 lower-case letters, digits, "\." and "-"/,
    );
  });
});

async function runOf(env: TestWorkflowEnvironment, workflowId: string) {
  return env.client.workflow
    .getHandle(workflowId)
    .describe()
    .catch(() => undefined);
}
