/**
 * One run of a peer, in a fresh process so that nothing carries over between runs (tag-image
 * keeps a per-process cache of looks by content hash: a second run in the same process would skip
 * the decode). Started by peer-process.ts; prints one JSON line, a {@link PeerResult}.
 *
 *   node --require tsx/cjs bench/peers/peer-run.ts '<PeerTask as JSON>'
 *
 * - `raw-photos`: a promise pool of `concurrency` over the files;
 * - `bullmq-photos`: one BullMQ job per file, a Worker of `concurrency` doing the same work;
 * - `bullmq-noop`: `count` jobs added with addBulk in chunks, a Worker of `concurrency` returning
 *   each job's data.
 * Redis (started by the parent) keeps the jobs; the queue is obliterated after the measurement.
 */
import fs from 'node:fs';
import { Queue, Worker } from 'bullmq';
import { tagAndThumbnail } from './photo-work';

export type PeerTask =
  | { kind: 'raw-photos'; files: string[]; concurrency: number; run: string }
  | { kind: 'bullmq-photos'; files: string[]; concurrency: number; run: string; redisPort: number }
  | { kind: 'bullmq-noop'; count: number; concurrency: number; chunk: number; run: string; redisPort: number };

export interface PeerResult {
  items: number;
  /** Wall clock (ms since the epoch) when the work started and when the last item was done. */
  startedAt: number;
  endedAt: number;
  /** CPU seconds of this process over that window (all its threads: libvips' too). */
  cpuSeconds: number;
  /** Photos only: how many got a thumbnail. */
  thumbnails?: number;
}

async function pool<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

/** Runs `work` and measures it; `work` returns how many thumbnails it made (photos) or nothing. */
async function measured(items: number, work: () => Promise<number | undefined>): Promise<PeerResult> {
  const cpu0 = process.cpuUsage();
  const startedAt = Date.now();
  const thumbnails = await work();
  const endedAt = Date.now();
  const cpu = process.cpuUsage(cpu0);
  return { items, startedAt, endedAt, cpuSeconds: (cpu.user + cpu.system) / 1e6, thumbnails };
}

const itemId = (i: number) => `photo-${String(i).padStart(5, '0')}`;

async function rawPhotos(task: Extract<PeerTask, { kind: 'raw-photos' }>): Promise<PeerResult> {
  return measured(task.files.length, async () => {
    let thumbnails = 0;
    await pool(task.files, task.concurrency, async (file, i) => {
      if (await tagAndThumbnail(file, itemId(i), task.run)) thumbnails++;
    });
    return thumbnails;
  });
}

/** Resolves once `count` jobs completed; rejects on the first failed job. */
function completions(worker: Worker, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = 0;
    worker.on('completed', () => {
      if (++done === count) resolve();
    });
    worker.on('failed', (job, error) => reject(new Error(`BullMQ job ${job?.id} failed: ${error.message}`)));
    worker.on('error', reject);
  });
}

async function bullmq(
  task: Extract<PeerTask, { kind: 'bullmq-photos' | 'bullmq-noop' }>,
  count: number,
  jobs: (offset: number, size: number) => { name: string; data: Record<string, unknown> }[],
  chunk: number,
  process: (data: Record<string, unknown>) => Promise<unknown>,
): Promise<PeerResult> {
  const connection = { host: '127.0.0.1', port: task.redisPort, maxRetriesPerRequest: null };
  const name = `bench-${task.run}`;
  const queue = new Queue(name, { connection });
  const worker = new Worker(name, (job) => process(job.data), {
    connection,
    concurrency: task.concurrency,
    autorun: false,
  });
  await queue.waitUntilReady();
  await worker.waitUntilReady();
  try {
    return await measured(count, async () => {
      const done = completions(worker, count);
      void worker.run();
      for (let offset = 0; offset < count; offset += chunk) {
        await queue.addBulk(jobs(offset, Math.min(chunk, count - offset)));
      }
      await done;
      return undefined;
    });
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? 'null') as PeerTask | null;
  if (!task) throw new Error('usage: peer-run.ts <task as JSON> (see bench/peers/peer-process.ts)');
  let result: PeerResult;
  if (task.kind === 'raw-photos') {
    result = await rawPhotos(task);
  } else if (task.kind === 'bullmq-photos') {
    let thumbnails = 0;
    result = await bullmq(
      task,
      task.files.length,
      (offset, size) =>
        task.files
          .slice(offset, offset + size)
          .map((file, i) => ({ name: 'photo', data: { file, id: itemId(offset + i) } })),
      task.files.length,
      async (data) => {
        if (await tagAndThumbnail(String(data.file), String(data.id), task.run)) thumbnails++;
      },
    );
    result.thumbnails = thumbnails;
  } else {
    result = await bullmq(
      task,
      task.count,
      (offset, size) => Array.from({ length: size }, (_, i) => ({ name: 'noop', data: { n: offset + i } })),
      task.chunk,
      async (data) => data,
    );
  }
  fs.writeSync(1, `${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
