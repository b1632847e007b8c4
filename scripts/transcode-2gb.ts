/**
 * A large transcode through S3 with the worker's memory measured (issue 10: a 2 GB high-bitrate source, the
 * worker's peak RSS at most 512 MiB). Not a test: it makes gigabytes and encodes minutes of video.
 *
 *   node --require tsx/cjs scripts/transcode-2gb.ts [--mb 2048] [--data-dir DIR] [--limit-mib 512]
 *
 * 1. Makes the source with ffmpeg: 1280x720 testsrc2 at 25 fps with temporal noise, H.264 ultrafast at CRF 8
 *    (about 160 Mbit/s: noise does not compress), cut at `--mb` MiB with `-fs` (kept in DIR for the next run).
 * 2. Starts its own S3 gateway (src/devstack/s3-gateway.ts) and Temporal dev server on free ports, and two worker
 *    hosts as processes with private data folders: `workflows`, and `video` — the one measured.
 * 3. Uploads the source into the bucket (hashed while copied, multipart above 16 MiB) and runs the transcode
 *    pipeline: the video host downloads the upload into its scratch folder, ffmpeg reads and writes scratch, the
 *    renditions are uploaded in parts.
 * 4. Prints the video worker's peak RSS (VmHWM of /proc/<pid>/status: the kernel's high-water mark of the worker
 *    process; ffmpeg is a child process with its own memory) and exits 1 when it is above `--limit-mib`.
 *
 * Without --data-dir everything goes to a temporary folder that is removed at the end.
 */
// First: sets BATCH_DATA_DIR (this process's scratch, the upload's hashing copy, goes under it).
import { dataDir, dataDirIsTemporary } from './support/data-dir';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { ffmpegPath } from '../src/activities/media/ffmpeg';
import { readResultLines } from '../src/activities/pipeline/results';
import { ensureSearchAttributes } from '../src/client/search-attributes';
import { startTranscodeRun, uploadFiles } from '../src/client/transcode';
import { startDevServer } from '../src/devstack/dev-server';
import { startS3Gateway } from '../src/devstack/s3-gateway';
import { ensureTemporalCli } from '../src/devstack/tools/temporal-cli';
import { loadConfig } from '../src/infra/config';
import { freePort } from '../src/infra/wait';
import { startWorkerProcess } from '../src/infra/worker-process';
import { collect, ListSource } from '../src/sources';
import { BlobStore } from '../src/storage/blob-store';
import { S3ObjectStore } from '../src/storage/s3-store';
import { useStorage } from '../src/storage/storage';
import { storageEnv } from '../src/storage/storage-config';
import { buildWorkflowBundle } from '../src/workers/workflow-bundle';
import { numberArg, scriptLog } from './support/args';

const sizeMiB = numberArg('--mb', 2048, 'positive');
const limitMiB = numberArg('--limit-mib', 512, 'positive');
const log = scriptLog('transcode-2gb');
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const secondsSince = (t: number) => ((performance.now() - t) / 1000).toFixed(0);

/** The process's peak and current resident set (kB → bytes), or undefined once it is gone. */
function memoryOf(pid: number): { peak: number; now: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { peak: kb('VmHWM'), now: kb('VmRSS') };
  } catch {
    return undefined;
  }
}

function makeSource(file: string, ffmpeg: string): void {
  const bytes = sizeMiB * 1024 * 1024;
  if (fs.existsSync(file) && fs.statSync(file).size >= bytes * 0.95) {
    log(`source ${file} kept from an earlier run (${mib(fs.statSync(file).size)})`);
    return;
  }
  const started = performance.now();
  log(`making a ${sizeMiB} MiB high-bitrate source with ffmpeg (about 1 s per 25 MiB on a free core)`);
  // prettier-ignore
  const args = [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25',
    '-vf', 'noise=alls=30:allf=t+u',
    '-t', '3600', '-fs', String(bytes),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '8', '-pix_fmt', 'yuv420p',
    file,
  ];
  const run = spawnSync(ffmpeg, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) throw new Error(`ffmpeg could not make the source (exit ${run.status ?? run.signal}).`);
  log(`source made: ${mib(fs.statSync(file).size)} in ${secondsSince(started)} s`);
}

async function main(): Promise<void> {
  log(`data folder ${dataDir}`);
  const source = path.join(dataDir, `source-${sizeMiB}mib.mp4`);
  makeSource(source, ffmpegPath());

  const gateway = await startS3Gateway({ dir: path.join(dataDir, 's3'), port: await freePort(), buckets: ['media'] });
  const s3 = new S3ObjectStore(gateway.storage.s3);
  useStorage(s3);
  const cliPath = await ensureTemporalCli(log);
  const port = await freePort();
  const server = await startDevServer({
    cliPath,
    port,
    uiPort: await freePort(),
    namespace: 'default',
    dbFile: path.join(dataDir, 'temporal.db'),
    logFile: path.join(dataDir, 'temporal-server.log'),
  });
  const address = `127.0.0.1:${port}`;
  const config = { ...loadConfig({}), temporalAddress: address, namespace: 'default' };
  const connection = await Connection.connect({ address });
  const hostEnv = (name: string) => ({ ...storageEnv(gateway.storage), BATCH_DATA_DIR: path.join(dataDir, name) });
  const bundle = await buildWorkflowBundle();
  const workflows = await startWorkerProcess({
    name: 'workflows host',
    config,
    roles: 'workflows',
    workflowBundlePath: bundle,
    logFile: path.join(dataDir, 'host-workflows.log'),
    env: hostEnv('host-workflows'),
  });
  const video = await startWorkerProcess({
    name: 'video host',
    config,
    roles: 'video',
    logFile: path.join(dataDir, 'host-video.log'),
    env: hostEnv('host-video'),
  });
  const pid = video.child.pid!;
  let sampled = 0;
  const sampler = setInterval(() => (sampled = Math.max(sampled, memoryOf(pid)?.now ?? 0)), 200);
  let failed = false;
  try {
    await ensureSearchAttributes(connection, 'default');
    const client = new Client({ connection });
    const atStart = memoryOf(pid);
    log(`video host pid ${pid}: RSS ${mib(atStart?.now ?? 0)} before the run`);

    let started = performance.now();
    const uploads = await uploadFiles(new BlobStore(s3), await collect(new ListSource([source])));
    log(`uploaded ${uploads[0].uri} (${mib(uploads[0].bytes)}) into ${s3.description} in ${secondsSince(started)} s`);

    started = performance.now();
    const handle = await startTranscodeRun(client, config, { runName: `big-${Date.now().toString(36)}`, uploads });
    const ticker = setInterval(() => log(`… video host RSS ${mib(memoryOf(pid)?.now ?? 0)}`), 30_000);
    const result = await handle.result().finally(() => clearInterval(ticker));
    log(`transcoded in ${secondsSince(started)} s: ${result.completed} completed, ${result.deadLettered} failed`);
    for await (const line of readResultLines(result.results!.dir)) {
      for (const r of (line.data?.renditions ?? []) as {
        rendition: string;
        width: number;
        height: number;
        bytes: number;
      }[]) {
        log(`  ${r.rendition} ${r.width}x${r.height} ${mib(r.bytes)}`);
      }
      if (line.status !== 'completed') log(`  ${line.id}: ${line.status} ${JSON.stringify(line.error)}`);
    }
    const peak = memoryOf(pid)?.peak ?? 0;
    log(`video worker peak RSS (VmHWM): ${mib(peak)} (highest sampled RSS ${mib(sampled)}); limit ${limitMiB} MiB`);
    failed = result.completed !== 1 || peak > limitMiB * 1024 * 1024;
    console.log(failed ? 'FAIL' : 'PASS');
  } finally {
    clearInterval(sampler);
    await Promise.all([video.stop(), workflows.stop()]);
    await connection.close();
    s3.client.destroy();
    await gateway.stop();
    await server.stop();
    if (dataDirIsTemporary) fs.rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
