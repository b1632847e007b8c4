/**
 * The pipeline engine's data plane on S3 (the real Versity gateway), with workers on two hosts
 * that share nothing but Temporal and the bucket: host A runs the workflows and the tag stage
 * (image queue), host B the later stages, results and reports (stage queue).
 *
 * Image tagging reads its images by listing a prefix of the bucket; its thumbnails, report,
 * results parts and results manifest land in the bucket, and neither host keeps anything but its
 * log. JSON Lines and CSV items objects are read in pages (2,500 items, pages of 1,000: three
 * reads), and a bad line or row becomes a dead letter with its reason while the run completes.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { maxLineBytes, planItems, readItems } from '../src/activities/pipeline/item-reader';
import { readItemsPage, readResultLines, writeItemsManifest } from '../src/activities/pipeline/results';
import { runItemsKey } from '../src/activities/pipeline/run-outputs';
import type { ResultLine, ResultsManifest } from '../src/activities/pipeline/results-types';
import { startPipelineRun } from '../src/client/pipeline-run';
import { ImageTaggingRun, imageTaggingSpec, runImageTagging } from '../src/cli/flows/image-tagging';
import type { PipelineSpec } from '../src/pipelines/spec';
import type { BatchConfig } from '../src/infra/config';
import { bombSampleName, corruptSampleName, generateSampleImages } from '../src/devstack/sample-images';
import { parseCsvRow } from '../src/sources/csv-row';
import { itemReaderOf } from '../src/sources/item-reader';
import { dataDir } from '../src/infra/paths';
import type { ObjectStore } from '../src/storage/object-store';
import { storage, useStorage } from '../src/storage/storage';
import { buildWorkflowBundle } from '../src/workers/workflow-bundle';
import { isolatedConfig } from './support/config';
import { startHost, TestHost } from './support/hosts';
import { outputFolder } from './support/media';
import { startTestS3, TestS3, allKeys } from './support/s3';
import { sharedDevServer } from './support/servers';

const bucket = 'batch-test';

async function jsonObject<T>(store: ObjectStore, key: string): Promise<T> {
  const bytes = await store.getBytes(key);
  assert.ok(bytes, `${key} exists in the bucket`);
  return JSON.parse(bytes.toString('utf8')) as T;
}

/** Activities of a type scheduled in a workflow's history. */
async function scheduled(env: TestWorkflowEnvironment, workflowId: string, activity: string): Promise<number> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity)
    .length;
}

describe('pipelines on S3 with workers on two hosts', function () {
  this.timeout(150_000);
  let env: TestWorkflowEnvironment;
  let s3: TestS3;
  let config: BatchConfig;
  let previous: ObjectStore;
  const hosts: TestHost[] = [];

  before(async () => {
    [env, s3] = await Promise.all([sharedDevServer(), startTestS3('storage-pipeline', bucket)]);
    config = isolatedConfig(env.address);
    // This process (the CLI side) reads results and thumbnails from the bucket too.
    previous = storage();
    useStorage(s3.store);
    const workflowBundlePath = await buildWorkflowBundle();
    const host = (name: string, roles: string) =>
      startHost({ name, config, storageEnv: s3.env, roles, workflowBundlePath });
    hosts.push(...(await Promise.all([host('pipeline-a', 'workflows,image'), host('pipeline-b', 'stages')])));
  });

  after(async () => {
    useStorage(previous);
    await Promise.all(hosts.map((h) => h.worker.stop()));
    await s3?.stop();
  });

  describe('image tagging on images listed from a prefix', () => {
    const runName = `s3-${process.pid}`;
    let run: ImageTaggingRun;
    let images: string[];

    before(async () => {
      images = await generateSampleImages(outputFolder('storage-pipeline-images'), () => undefined);
      for (const file of images) await s3.store.putFile(`photos/${path.basename(file)}`, file);
      // Tag on host A (image queue); everything after the join on host B (default stage queue).
      const spec = imageTaggingSpec('landscape');
      const tag = spec.stages.tag;
      assert.equal(tag.kind, 'activity');
      const routed: PipelineSpec = {
        ...spec,
        stages: { ...spec.stages, tag: { ...tag, taskQueue: config.queues.image } },
      };
      const ctx = { client: env.client, config, dataDir: '', log: () => undefined };
      run = await runImageTagging(ctx, { inputs: [`s3://${bucket}/photos/`], tag: 'landscape', runName }, routed);
    });

    it('tags every listed image, dead-letters the bomb and the corrupt one with their reasons', () => {
      const { result } = run;
      assert.equal(result.total, images.length);
      assert.equal(result.deadLettered, 2);
      assert.equal(result.reduce['tag-report'].count, images.length - 2);
      const letters = result.deadLetters.map((d) => [path.basename(String(d.input.data.uri)), d.error.type]).sort();
      assert.deepEqual(letters, [
        [bombSampleName, 'InvalidInput'],
        [corruptSampleName, 'InvalidInput'],
      ]);
    });

    it('puts the thumbnails and the report in the bucket, with URIs in the results', async () => {
      const prefix = `outputs/image-tagging/${runName}/`;
      const keys = await allKeys(s3.store, prefix);
      const thumbnails = keys.filter((k) => k.startsWith(`${prefix}thumbnails/`));
      assert.equal(thumbnails.length, 5, keys.join('\n'));
      assert.deepEqual(
        keys.filter((k) => k.startsWith(`${prefix}tag-report/`)),
        [`${prefix}tag-report/histogram.svg`, `${prefix}tag-report/report.json`],
      );
      assert.deepEqual(run.result.reports?.['tag-report']?.files, [
        `s3://${bucket}/${prefix}tag-report/report.json`,
        `s3://${bucket}/${prefix}tag-report/histogram.svg`,
      ]);
      const report = await jsonObject<{ count: number }>(s3.store, `${prefix}tag-report/report.json`);
      assert.equal(report.count, images.length - 2);
      const lines: ResultLine[] = [];
      for await (const line of readResultLines(run.result.results!.dir)) lines.push(line);
      const thumbnailUris = lines
        .map((l) => (l.data?.thumbnail as { uri?: string } | undefined)?.uri)
        .filter((u): u is string => !!u)
        .sort();
      assert.deepEqual(
        thumbnailUris,
        thumbnails.map((k) => `s3://${bucket}/${k}`),
      );
      assert.deepEqual(
        run.thumbnails.map((t) => [t.file.startsWith(`s3://${bucket}/${prefix}thumbnails/`), t.width <= 320]),
        thumbnails.map(() => [true, true]),
      );
    });

    it('writes the results parts and a manifest whose counts match the run', async () => {
      const prefix = `results/image-tagging/${runName}/`;
      const keys = await allKeys(s3.store, prefix);
      assert.ok(keys.includes(`${prefix}manifest.json`), keys.join('\n'));
      assert.ok(!keys.some((k) => k.includes('.chunk-')), 'no chunk left beside the parts');
      const manifest = await jsonObject<ResultsManifest>(s3.store, `${prefix}manifest.json`);
      assert.deepEqual(
        manifest.parts.map((p) => p.uri),
        keys.filter((k) => /\/part-[^/]+\.jsonl$/.test(k)).map((k) => `s3://${bucket}/${k}`),
      );
      assert.deepEqual(manifest.counts, run.result.results!.counts);
      assert.equal(manifest.counts.deadLettered, 2);
      assert.equal(
        manifest.items,
        manifest.parts.reduce((n, p) => n + p.lines, 0),
      );
      assert.equal(run.result.results!.manifest, `s3://${bucket}/${prefix}manifest.json`);
      const text = run.summary.join('\n');
      assert.match(text, new RegExp(`Manifest: +s3://${bucket}/${prefix}manifest\\.json`));
      assert.match(
        text,
        new RegExp(`Thumbnails: s3://${bucket}/outputs/image-tagging/${runName}/thumbnails/ \\(5 files`),
      );
    });

    it('ran the tag stage and the thumbnails on different hosts', async () => {
      // Who started each activity, from the partition's history and its copy branches'.
      const identities = new Map<string, Set<string>>();
      const visit = async (workflowId: string) => {
        const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
        const types = new Map<number, string>();
        for (const e of history.events ?? []) {
          const scheduledAttrs = e.activityTaskScheduledEventAttributes;
          if (scheduledAttrs) types.set(Number(e.eventId), scheduledAttrs.activityType?.name ?? '');
          const started = e.activityTaskStartedEventAttributes;
          if (started) {
            const type = types.get(Number(started.scheduledEventId)) ?? '';
            identities.set(type, (identities.get(type) ?? new Set()).add(started.identity ?? ''));
          }
          const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
          if (child) await visit(child);
        }
      };
      await visit(`image-tagging/${runName}/p0`);
      const tagged = [...(identities.get('tag-image') ?? [])];
      const thumbnailed = [...(identities.get('thumbnail-image') ?? [])];
      assert.equal(tagged.length, 1, `one host tags: ${tagged}`);
      assert.equal(thumbnailed.length, 1, `one host makes thumbnails: ${thumbnailed}`);
      assert.notEqual(tagged[0], thumbnailed[0]);
    });

    it('leaves nothing on either host but its log', () => {
      for (const host of hosts) {
        const files = host.files().filter((f) => !f.endsWith('.log'));
        assert.deepEqual(files, [], `${host.name} keeps only its log`);
      }
    });
  });

  describe('items read in pages from JSON Lines and CSV objects', () => {
    const spec: PipelineSpec = {
      name: 'reader-pages',
      start: 'work',
      partitionSize: 1000,
      stages: { work: { kind: 'activity', activity: 'annotate', batchSize: 250 } },
    };
    const count = 2500;

    async function runOn(uri: string, runName: string) {
      const handle = await startPipelineRun(env.client, config, spec, { reader: itemReaderOf(uri) }, { runName });
      const result = await handle.result();
      const lines: ResultLine[] = [];
      for await (const line of readResultLines(result.results!.dir)) lines.push(line);
      let reads = 0;
      for (let k = 0; k < result.partitions; k++)
        reads += await scheduled(env, `${handle.workflowId}/p${k}`, 'readItems');
      return { handle, result, lines, reads, plans: await scheduled(env, handle.workflowId, 'planItems') };
    }

    it('reads 2,500 JSON lines in three pages; a line that is not JSON is a dead letter with its reason', async () => {
      const rows = Array.from({ length: count }, (_, i) => JSON.stringify({ id: `j${i}`, data: { n: i } }));
      rows[1234] = '{"id": "j1234", "data": ';
      await s3.store.putBytes('lists/items.jsonl', `${rows.join('\n')}\n`);
      const { handle, result, lines, reads, plans } = await runOn(
        `s3://${bucket}/lists/items.jsonl`,
        `jsonl-${process.pid}`,
      );
      assert.deepEqual([result.total, result.partitions, plans, reads], [count, 3, 1, 3]);
      assert.deepEqual(result.results!.counts, { completed: count - 1, dropped: 0, deadLettered: 1 });
      assert.equal(lines.length, count, 'one results line per line of the object');
      const bad = lines.find((l) => l.status === 'deadLettered')!;
      assert.deepEqual([bad.id, bad.stage, bad.error?.type], ['line-1235', 'work', 'InvalidItem']);
      assert.match(bad.error!.message, /^line 1235 of s3:\/\/batch-test\/lists\/items\.jsonl is not JSON/);
      assert.equal(lines.find((l) => l.id === 'j2499')?.status, 'completed');
      const history = await handle.fetchHistory();
      const input = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0].data!;
      assert.ok(input.length < 5_000, `the run's input names the object, not its items: ${input.length} bytes`);
    });

    it('reads 2,500 CSV rows under their header in three pages; bad rows are dead letters with their reasons', async () => {
      const rows = Array.from({ length: count }, (_, i) => `c${i},s3://${bucket}/photos/${i}.jpg,"a, b"`);
      rows[10] = 'c10,only-two-fields';
      rows[2000] = 'c2000,"not closed,x';
      await s3.store.putBytes('lists/items.csv', `id,uri,note\r\n${rows.join('\r\n')}\r\n`);
      const { result, lines, reads } = await runOn(`s3://${bucket}/lists/items.csv`, `csv-${process.pid}`);
      assert.deepEqual([result.total, result.partitions, reads], [count, 3, 3]);
      assert.deepEqual(result.results!.counts, { completed: count - 2, dropped: 0, deadLettered: 2 });
      const ok = lines.find((l) => l.id === 'c7')!;
      assert.deepEqual(ok.data, { id: 'c7', uri: `s3://${bucket}/photos/7.jpg`, note: 'a, b', trail: ['work'] });
      const letters = lines.filter((l) => l.status === 'deadLettered').map((l) => [l.id, l.error?.message]);
      assert.deepEqual(letters.map((l) => l[0]).sort(), ['line-12', 'line-2002']);
      assert.match(
        String(letters.find((l) => l[0] === 'line-12')![1]),
        /line 12 of s3:\/\/batch-test\/lists\/items\.csv has 2 fields but the header has 3 \(id, uri, note\)/,
      );
      assert.match(
        String(letters.find((l) => l[0] === 'line-2002')![1]),
        /line 2002 of .* is not a CSV row: a quoted field is not closed on its line/,
      );
    });
  });
});

describe('item manifests and item-reader URIs', () => {
  it('reads an item manifest by URI, and by the path runs started before the object store passed', async () => {
    const run = `manifest-${process.pid}`;
    const uri = await writeItemsManifest(runItemsKey('p', run), [
      { id: 'a', data: { n: 1 } },
      { id: 'b', data: { n: 2 } },
      { id: 'c', data: { n: 3 } },
    ]);
    assert.equal(
      uri,
      path.join(dataDir, 'inputs', 'p', run, 'items.jsonl'),
      'on the local backend: the same file as before',
    );
    const byUri = await readItemsPage({ uri, from: 1, count: 2 });
    const byPath = await readItemsPage({ path: uri, from: 1, count: 2 });
    assert.deepEqual(
      byUri.map((i) => i.id),
      ['b', 'c'],
    );
    assert.deepEqual(byPath, byUri);
    await storage().delete(runItemsKey('p', run));
    await assert.rejects(
      readItemsPage({ uri: path.join(dataDir, 'results', 'x.jsonl'), from: 0, count: 1 }),
      /must be a run's items\.jsonl/,
    );
  });

  it('reads only objects of the store: a path elsewhere on the worker is refused before a byte is read', async () => {
    for (const uri of ['/etc/passwd', path.join(dataDir, '..', 'outside.csv'), 'relative.csv']) {
      await assert.rejects(planItems({ reader: { uri, format: 'csv' }, pageSize: 10 }), (error: Error) => {
        assert.match(error.message, /neither an s3:\/\/ URI nor inside the data folder/);
        return true;
      });
    }
  });

  it('refuses a line over 1 MiB as that item only, without holding it', async () => {
    const key = `reader-${process.pid}/items.jsonl`;
    const huge = `{"id": "big", "data": {"x": "${'x'.repeat(maxLineBytes + 10)}"}}`;
    const { uri } = await storage().putBytes(key, `{"id": "a"}\n${huge}\n{"id": "b"}\n`);
    const reader = { uri, format: 'jsonl' as const };
    const plan = await planItems({ reader, pageSize: 2 });
    assert.deepEqual(
      plan.pages.map((p) => [p.line, p.count]),
      [
        [1, 2],
        [3, 1],
      ],
    );
    const first = await readItems({ reader, page: plan.pages[0] });
    assert.deepEqual(
      first.items.map((i) => i.id),
      ['a'],
    );
    assert.match(first.refused[0].error.message, /^line 2 of .* is longer than 1048576 bytes/);
    assert.deepEqual((await readItems({ reader, page: plan.pages[1] })).items, [{ id: 'b', data: {} }]);
    await storage().delete(key);
  });

  it('tells a person how to name items in S3', () => {
    assert.deepEqual(itemReaderOf('s3://media/photos/'), { uri: 's3://media/photos/', format: 'listing' });
    assert.deepEqual(itemReaderOf('s3://media/a/items.CSV').format, 'csv');
    assert.throws(() => itemReaderOf('s3://media/photos'), /end a prefix with "\/".*or name a \.jsonl or \.csv object/);
    assert.throws(() => itemReaderOf('s3://No_Bucket/x.csv'), /not an S3 URI of items/);
  });

  it('splits CSV rows with quoted commas and doubled quotes, and refuses what a row cannot hold', () => {
    assert.deepEqual(parseCsvRow('a,"b, c","say ""hi""",'), ['a', 'b, c', 'say "hi"', '']);
    assert.throws(() => parseCsvRow('a,"open'), /not closed on its line/);
    assert.throws(() => parseCsvRow('a,b"c'), /a quote inside an unquoted field at character 4/);
  });
});
