/**
 * Side by side on one machine, in one run: a raw loop of the same functions, BullMQ 5 + Redis, and
 * this project, on the same work. Not a test: it measures and writes its own section of
 * docs/benchmarks.md (between markers; the rest of the file is bench/pipeline-throughput.ts's).
 *
 *   node --require tsx/cjs bench/side-by-side.ts [--quick] [--help]
 *
 * Workloads (each way runs in every round, rounds interleaved, medians reported):
 * - photos: N real photos (2–3 MP JPEGs cut from scikit-image's sample photos, bench/photos/):
 *   tag every image, thumbnail the landscape ones, with the image-tagging pipeline's own activities;
 * - noop: N no-op items, batchSize 100 in the project, one durable job per item in BullMQ;
 * - bulk: the same N no-op items in batches of 500, partitions of 5,000 (BullMQ as above);
 * - single: N no-op items one per call (batchSize 1; BullMQ as above).
 * Needs `redis-server` on PATH (Debian: apt-get install -y redis-server) and Python 3 with pip
 * (the photos' first fetch). Starts its own Redis and Temporal dev server on free ports.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import prettier from 'prettier';
import { repoRoot } from '../src/infra/paths';
import { temporalCliVersion } from '../src/devstack/tools/temporal-cli';
import { runPeer } from './peers/peer-process';
import type { PeerResult } from './peers/peer-run';
import { startRedis, type RedisServer } from './peers/redis-server';
import { benchmarkPhotoSet, type PhotoSet } from './photos/photo-set';
import { scikitImageVersion } from './photos/sample-photos';
import { CpuSampler } from './support/cpu-sampler';
import { withSection } from './support/doc-section';
import { projectRun, startProjectStack, type ProjectStack } from './support/project-runs';
import {
  noopWorkloads,
  report,
  sectionName,
  type NoopWorkload,
  type Sample,
  type SideBySideSetup,
  type Way,
} from './side-by-side-report';

const help = `Usage: node --require tsx/cjs bench/side-by-side.ts [options]

A raw loop, BullMQ 5 + Redis and this project on the same work, rounds interleaved, medians;
writes the section "Side by side" of docs/benchmarks.md (only that section).

  --quick                   small sizes, 1 round, printed only (--out -) unless --out is given
  --rounds N                rounds (default 3; quick 1)
  --photos N                photos in the set (default 400; quick 100)
  --noop-items N            no-op items, project batchSize 100 (noop) and 500 (bulk) (default 100000; quick 10000)
  --single-items N          no-op items one per call, project batchSize 1 (default 20000; quick 2000)
  --raw-concurrency LIST    promise-pool sizes tried for the raw loop (default 2,4,8; the best is reported)
  --bullmq-concurrency N    BullMQ Worker concurrency on photos (default 8)
  --bullmq-noop-concurrency N   BullMQ Worker concurrency on no-op jobs (default 100)
  --bullmq-chunk N          jobs per addBulk call (default 1000)
  --only LIST               workloads to run: photos,noop,bulk,single (default all)
  --out FILE | -            where the section goes (default docs/benchmarks.md; - prints it)
  --help                    this text

Needs redis-server on PATH (Debian/Ubuntu: apt-get install -y redis-server) and Python 3 with pip for
the first fetch of the photos (scikit-image's wheel, into .tools/photos/, reused).`;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function positive(name: string, fallback: number): number {
  const value = arg(name);
  if (value === undefined) return fallback;
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} needs a whole number ≥ 1, not "${value}".`);
  return n;
}

const quick = process.argv.includes('--quick');
const options = {
  rounds: positive('--rounds', quick ? 1 : 3),
  photos: positive('--photos', quick ? 100 : 400),
  noopItems: positive('--noop-items', quick ? 10_000 : 100_000),
  singleItems: positive('--single-items', quick ? 2_000 : 20_000),
  rawConcurrency: (arg('--raw-concurrency') ?? '2,4,8').split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--raw-concurrency needs whole numbers ≥ 1, not "${s}".`);
    return n;
  }),
  bullmqConcurrency: positive('--bullmq-concurrency', 8),
  bullmqNoopConcurrency: positive('--bullmq-noop-concurrency', 100),
  bullmqChunk: positive('--bullmq-chunk', 1000),
  only: (arg('--only') ?? 'photos,noop,bulk,single').split(','),
  out: arg('--out') ?? (quick ? '-' : 'docs/benchmarks.md'),
};
for (const w of options.only) {
  if (!['photos', 'noop', 'bulk', 'single'].includes(w)) {
    throw new Error(`--only takes photos, noop, bulk, single; not "${w}".`);
  }
}

const log = (line: string) => console.log(`[side-by-side ${new Date().toISOString().slice(11, 19)}] ${line}`);

/** The one-stage no-op pipeline of issue 12 (`start: work`, activity `noop`) with a workload's sizes. */
function noopSpec(workload: NoopWorkload) {
  const { batchSize, partitionSize } = noopWorkloads[workload];
  return {
    name: `bench-noop-b${batchSize}`,
    start: 'work',
    partitionSize,
    stages: { work: { kind: 'activity', activity: 'noop', batchSize } },
  };
}

interface Context {
  photos: PhotoSet;
  redis: RedisServer;
  stack: ProjectStack;
  sampler: CpuSampler;
  specFiles: Record<NoopWorkload, string>;
  dataDir: string;
  stamp: string;
}

let counter = 0;
const runName = (ctx: Context, what: string) => `${ctx.stamp}-${what}-${++counter}`;

function peerSample(
  ctx: Context,
  workload: Sample['workload'],
  way: Way,
  round: number,
  r: PeerResult,
  concurrency?: number,
): Sample {
  const seconds = (r.endedAt - r.startedAt) / 1000;
  const cpu: Record<string, number> = { [way === 'raw' ? 'loop' : 'node']: r.cpuSeconds };
  if (way === 'bullmq') cpu.redis = ctx.sampler.cpuBetween(ctx.redis.process.child.pid, r.startedAt, r.endedAt);
  return { workload, way, round, items: r.items, seconds, perSecond: r.items / seconds, cpu, concurrency };
}

async function photosRound(ctx: Context, round: number, samples: Sample[]): Promise<void> {
  const files = ctx.photos.files;
  const checkThumbnails = (n: number | undefined, who: string) => {
    if (n !== ctx.photos.landscape) throw new Error(`${who} made ${n} thumbnails, expected ${ctx.photos.landscape}`);
  };
  for (const concurrency of options.rawConcurrency) {
    const r = await runPeer({ kind: 'raw-photos', files, concurrency, run: runName(ctx, `raw-c${concurrency}`) });
    checkThumbnails(r.thumbnails, 'the raw loop');
    samples.push(show(peerSample(ctx, 'photos', 'raw', round, r, concurrency)));
  }
  const b = await runPeer({
    kind: 'bullmq-photos',
    files,
    concurrency: options.bullmqConcurrency,
    run: runName(ctx, 'bullmq'),
    redisPort: ctx.redis.port,
  });
  checkThumbnails(b.thumbnails, 'BullMQ');
  samples.push(show(peerSample(ctx, 'photos', 'bullmq', round, b, options.bullmqConcurrency)));

  const name = runName(ctx, 'project');
  const p = await projectRun(
    ctx.stack,
    ctx.sampler,
    ['run', 'image-tagging', ctx.photos.dir, '--run', name],
    `image-tagging/${name}`,
  );
  const thumbs = path.join(ctx.dataDir, 'outputs', 'image-tagging', name, 'thumbnails');
  const made = fs.existsSync(thumbs) ? fs.readdirSync(thumbs).filter((f) => !f.startsWith('.')).length : 0;
  checkThumbnails(made, 'the project');
  if (p.result.deadLettered !== 0) throw new Error(`the project's photo run dead-lettered ${p.result.deadLettered}`);
  samples.push(show(projectSample('photos', round, files.length, p)));
}

function projectSample(
  workload: Sample['workload'],
  round: number,
  items: number,
  p: Awaited<ReturnType<typeof projectRun>>,
): Sample {
  const seconds = (p.closedAt - p.startedAt) / 1000;
  return {
    workload,
    way: 'project',
    round,
    items,
    seconds,
    perSecond: items / seconds,
    cpu: { ...p.cpu, 'CLI (whole life)': p.cliCpuSeconds },
    eventsPerItem: p.events / items,
    executions: p.executions,
  };
}

async function noopRound(
  ctx: Context,
  workload: NoopWorkload,
  count: number,
  round: number,
  samples: Sample[],
): Promise<void> {
  const b = await runPeer({
    kind: 'bullmq-noop',
    count,
    concurrency: options.bullmqNoopConcurrency,
    chunk: options.bullmqChunk,
    run: runName(ctx, `bullmq-${workload}`),
    redisPort: ctx.redis.port,
  });
  samples.push(show(peerSample(ctx, workload, 'bullmq', round, b, options.bullmqNoopConcurrency)));
  const spec = noopSpec(workload);
  const name = runName(ctx, workload);
  const p = await projectRun(
    ctx.stack,
    ctx.sampler,
    ['run', ctx.specFiles[workload], '--generate', String(count), '--run', name, '--wait'],
    `${spec.name}/${name}`,
  );
  if (p.result.completed !== count || p.result.deadLettered !== 0) {
    throw new Error(`the project's ${workload} run is wrong: completed ${p.result.completed} of ${count}`);
  }
  samples.push(show(projectSample(workload, round, count, p)));
}

/** The commit measured, and whether the project's code had uncommitted changes. */
function codeVersion(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length;
    return `commit ${git('rev-parse', '--short', 'HEAD')}${dirty ? ` with uncommitted changes to ${dirty} file(s) under src/` : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function show(s: Sample): Sample {
  const cpu = Object.entries(s.cpu)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
  log(
    `${s.workload} ${s.way}${s.concurrency ? ` (concurrency ${s.concurrency})` : ''} round ${s.round}: ` +
      `${s.items} in ${s.seconds.toFixed(1)} s = ${s.perSecond.toFixed(1)}/s; CPU s: ${cpu}` +
      (s.eventsPerItem === undefined
        ? ''
        : `; ${s.eventsPerItem.toFixed(3)} events/item in ${s.executions} executions`),
  );
  return s;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(help);
    return;
  }
  const started = Date.now();
  const loadBefore = os.loadavg()[0];
  const photos = await benchmarkPhotoSet(options.photos, log);
  log(
    `${photos.files.length} photos (${photos.landscape} landscape), ${photos.megapixels.min.toFixed(2)}–` +
      `${photos.megapixels.max.toFixed(2)} MP, ${(photos.bytes / 2 ** 20).toFixed(0)} MiB, in ${photos.dir}`,
  );
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'side-by-side-'));
  const dataDir = path.join(tmp, 'data');
  // Outputs (thumbnails, manifests, results parts) of every way go here: children inherit it.
  process.env.BATCH_DATA_DIR = dataDir;
  for (const d of ['redis', 'temporal', 'data']) fs.mkdirSync(path.join(tmp, d), { recursive: true });
  const sampler = new CpuSampler();
  let redis: RedisServer | undefined;
  let stack: ProjectStack | undefined;
  try {
    redis = await startRedis(path.join(tmp, 'redis'));
    log(`redis-server ${redis.version} on 127.0.0.1:${redis.port} (AOF, fsync every second)`);
    sampler.watch(redis.process.child.pid);
    stack = await startProjectStack(path.join(tmp, 'temporal'), log);
    const specFiles = {} as Record<NoopWorkload, string>;
    for (const workload of Object.keys(noopWorkloads) as NoopWorkload[]) {
      specFiles[workload] = path.join(tmp, `bench-${workload}.json`);
      fs.writeFileSync(specFiles[workload], JSON.stringify(noopSpec(workload), null, 2));
    }
    const ctx: Context = { photos, redis, stack, sampler, specFiles, dataDir, stamp: Date.now().toString(36) };

    log('warm-up (not reported): 1,000 no-op items each way');
    await noopRound(ctx, 'noop', 1000, 0, []);

    const samples: Sample[] = [];
    const write = async (rounds: number) => {
      const setup: SideBySideSetup = {
        date: new Date().toISOString().slice(0, 10),
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
        memoryGiB: os.totalmem() / 2 ** 30,
        node: process.versions.node,
        sdk: require('@temporalio/worker/package.json').version,
        bullmq: require('bullmq/package.json').version,
        redis: redis!.version,
        temporal: `Server ${stack!.serverVersion} (Temporal CLI ${temporalCliVersion} dev server, SQLite)`,
        sharp: require('sharp/package.json').version,
        libvips: require('sharp').versions?.vips ?? '?',
        photos,
        scikitImage: scikitImageVersion,
        options: { ...options, rounds, quick },
        command: `node --require tsx/cjs bench/side-by-side.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
        minutes: (Date.now() - started) / 60_000,
        code: codeVersion(),
        load: { before: loadBefore, after: os.loadavg()[0] },
      };
      const body = await prettier.format(report(setup, samples), { parser: 'markdown', proseWrap: 'preserve' });
      if (options.out === '-') {
        if (rounds === options.rounds) console.log(body);
        return;
      }
      const out = path.resolve(repoRoot, options.out);
      const before = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '# Benchmarks\n';
      const config = (await prettier.resolveConfig(out)) ?? {};
      const text = await prettier.format(withSection(before, sectionName, body), { ...config, filepath: out });
      fs.writeFileSync(out, text);
      log(
        `wrote the section "${sectionName}" of ${path.relative(process.cwd(), out)} (${rounds} of ${options.rounds} rounds)`,
      );
    };
    for (let round = 1; round <= options.rounds; round++) {
      if (options.only.includes('photos')) await photosRound(ctx, round, samples);
      if (options.only.includes('noop')) await noopRound(ctx, 'noop', options.noopItems, round, samples);
      if (options.only.includes('bulk')) await noopRound(ctx, 'bulk', options.noopItems, round, samples);
      if (options.only.includes('single')) await noopRound(ctx, 'single', options.singleItems, round, samples);
      // After every round: a run stopped later still leaves the rounds it finished.
      await write(round);
    }
  } finally {
    sampler.stop();
    await stack?.stop();
    await redis?.process.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
