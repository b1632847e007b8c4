/**
 * The transcode flow at scale: N tiny inputs in one run on the pipeline engine, on a dev server of its own with
 * in-process workers and real ffprobe/ffmpeg; reports the run's counts, its summary (failures grouped by reason)
 * and the largest payload and history of every workflow of the run. Not a test (it takes minutes to hours); Ctrl-C
 * stops it and still reports the largest payload and history so far.
 *
 *   node --require tsx/cjs scripts/scale-transcode.ts [--count 10000] [--valid 100] [--data-dir <temp dir>]
 *     [--partition-size 200] [--window 4] [--video-slots 2]
 *
 * `--valid` of the inputs are distinct tiny videos (2x2 and 64x64, a few frames: each gets its whole ladder
 * rendered); the rest are distinct files that are not videos, dead-lettered at the probe with one reason. Every
 * input has its own bytes (content-addressed uploads would otherwise fold them into one).
 */
// First: sets BATCH_DATA_DIR (results parts and item manifests go under the data folder).
import { dataDir } from './support/data-dir';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createTranscodeActivities } from '../src/activities/transcode';
import { formatTranscodeSummary, readSummaryLines } from '../src/cli/flows/transcode-summary';
import { ensureSearchAttributes } from '../src/client/search-attributes';
import { startTranscodeRun, uploadFiles } from '../src/client/transcode';
import { startDevServer } from '../src/devstack/dev-server';
import { generateSampleVideos } from '../src/devstack/sample-videos';
import { ensureTemporalCli } from '../src/devstack/tools/temporal-cli';
import { loadConfig } from '../src/infra/config';
import { freePort } from '../src/infra/wait';
import { collect, ListSource } from '../src/sources';
import { BlobStore } from '../src/storage/blob-store';
import { autoHeartbeat } from '../src/workers/auto-heartbeat';
import { buildWorkflowBundle } from '../src/workers/workflow-bundle';
import { measureHistories } from '../test/support/history-sizes';
import { numberArg, scriptLog } from './support/args';

const count = numberArg('--count', 10_000);
const valid = Math.min(count, numberArg('--valid', 100));
const partitionSize = numberArg('--partition-size', 200);
const partitionWindow = numberArg('--window', 4);
const videoSlots = numberArg('--video-slots', 2);
const log = scriptLog('scale');

async function main(): Promise<void> {
  // Every dead letter is a warning in the workers' log: show errors only.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }), forward: {} },
    },
  });
  log(`data folder ${dataDir}; ${count} inputs, ${valid} of them videos`);
  const inputs = path.join(dataDir, 'scale-inputs');
  fs.mkdirSync(inputs, { recursive: true });
  const [tiny, small] = await generateSampleVideos(path.join(dataDir, 'scale-samples'), () => undefined, [
    { source: 'testsrc2', width: 2, height: 2, seconds: 0.3, fps: 10 },
    { source: 'testsrc2', width: 64, height: 64, seconds: 0.3, fps: 10 },
  ]);
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(inputs, `in-${String(i).padStart(5, '0')}${i < valid ? '.mp4' : '.bin'}`);
    if (i < valid) {
      // The sample plus an MP4 `free` box holding the index: a valid video with bytes of its own.
      const free = Buffer.alloc(16);
      free.writeUInt32BE(16, 0);
      free.write('free', 4, 'ascii');
      free.writeBigUInt64BE(BigInt(i), 8);
      fs.writeFileSync(file, Buffer.concat([fs.readFileSync(i % 2 === 0 ? tiny : small), free]));
    } else {
      fs.writeFileSync(file, `not a video, input ${i}\n`);
    }
    files.push(file);
  }

  const cliPath = await ensureTemporalCli(log);
  const [port, uiPort] = [await freePort(), await freePort()];
  const server = await startDevServer({
    cliPath,
    port,
    uiPort,
    namespace: 'default',
    dbFile: path.join(dataDir, 'temporal.db'),
    logFile: path.join(dataDir, 'temporal-server.log'),
  });
  const address = `127.0.0.1:${port}`;
  const base = loadConfig({});
  const config = { ...base, temporalAddress: address, namespace: 'default' };
  const connection = await Connection.connect({ address });
  const native = await NativeConnection.connect({ address });
  const workers: Awaited<ReturnType<typeof Worker.create>>[] = [];
  const running: Promise<void>[] = [];
  try {
    await ensureSearchAttributes(connection, 'default');
    const client = new Client({ connection });
    const store = new BlobStore(path.join(dataDir, 'blobs'));
    const common = {
      connection: native,
      namespace: 'default',
      interceptors: { activity: [autoHeartbeat] },
      // Ctrl-C: running ffmpeg is cancelled (killed) soon instead of awaited.
      shutdownGraceTime: '2 seconds' as const,
    };
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: config.queues.workflow,
        workflowBundle: { codePath: await buildWorkflowBundle() },
      }),
      await Worker.create({
        ...common,
        taskQueue: config.queues.video,
        activities: createTranscodeActivities(store),
        maxConcurrentActivityTaskExecutions: videoSlots,
      }),
    );
    for (const w of workers) running.push(w.run());

    const uploads = await uploadFiles(store, await collect(new ListSource(files)));
    const runName = `scale-${count}-${Date.now().toString(36)}`;
    const started = performance.now();
    const handle = await startTranscodeRun(client, config, { runName, uploads, partitionSize, partitionWindow });
    log(`started ${handle.workflowId} with ${uploads.length} uploads`);
    const ticker = setInterval(() => {
      void handle.query<{ done: number; total: number; deadLettered: number }>('progress').then(
        (p) => log(`${p.done}/${p.total} done, ${p.deadLettered} dead-lettered`),
        () => undefined,
      );
    }, 30_000);
    // Ctrl-C: stop waiting, measure what ran so far, stop everything (the run ends with the server).
    let interrupt: () => void = () => undefined;
    const interrupted = new Promise<undefined>((resolve) => (interrupt = () => resolve(undefined)));
    process.once('SIGINT', () => {
      log('interrupted: measuring what ran so far');
      interrupt();
    });
    const result = await Promise.race([handle.result(), interrupted]).finally(() => clearInterval(ticker));
    const seconds = (performance.now() - started) / 1000;

    // Every workflow of the run: the largest payload in any history, and the largest history.
    const sizes = await measureHistories(client, handle.workflowId);
    const { largestPayload: largest, longest } = sizes;
    const measured = [
      `Largest payload: ${(largest.bytes / 1024).toFixed(1)} KiB — ${largest.where}`,
      `Largest history: ${longest.events} events, ${(longest.bytes / 1024).toFixed(1)} KiB — ${longest.workflowId}`,
      `Histories: ${sizes.workflows} executions, ${sizes.events} events`,
    ];
    if (!result) {
      const p = await handle.query<{ done: number; deadLettered: number }>('progress');
      console.log(
        [`\nScale run interrupted after ${seconds.toFixed(0)} s: ${p.done}/${count} done`, ...measured].join('\n'),
      );
      return;
    }
    const lines = result.results
      ? await readSummaryLines(result.results.dir, result.results.failureGroups)
      : { completed: [], examples: new Map() };
    const summary = formatTranscodeSummary({ result, lines, store, webUi: '(scale run: no UI)' });
    console.log(['', ...summary.filter((l) => !/^ {6}\S/.test(l) || l.includes('e.g.')).slice(0, 40)].join('\n'));
    console.log(
      [
        '',
        `Scale run: ${count} inputs (${valid} videos) in ${seconds.toFixed(0)} s on ${os.cpus().length} CPUs: ${result.completed} transcoded, ${result.deadLettered} dead-lettered, ${result.partitions} partitions`,
        ...measured,
      ].join('\n'),
    );
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(running);
    await native.close();
    await connection.close();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
