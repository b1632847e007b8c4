/** The Markdown section bench/side-by-side.ts writes: the side-by-side table, per-process CPU, setup. */
import type { PhotoSet } from './photos/photo-set';

export const sectionName = 'side-by-side';

export type Way = 'raw' | 'bullmq' | 'project';

/**
 * The no-op workloads: the project's one-stage pipeline (`start: work`, activity `noop`) with these
 * batch and partition sizes; BullMQ does one durable job per item in each. `noop` and `single` are
 * issue 12's rows; `bulk` is the same items with the sizes a user would pick for work this cheap.
 */
export const noopWorkloads = {
  noop: { batchSize: 100, partitionSize: 1000 },
  bulk: { batchSize: 500, partitionSize: 5000 },
  single: { batchSize: 1, partitionSize: 1000 },
} as const;
export type NoopWorkload = keyof typeof noopWorkloads;

export interface Sample {
  workload: 'photos' | NoopWorkload;
  way: Way;
  round: number;
  items: number;
  /** Photos, raw loop: the pool's size; BullMQ: the Worker's concurrency. */
  concurrency?: number;
  seconds: number;
  perSecond: number;
  /** CPU seconds by process over the measured window. */
  cpu: Record<string, number>;
  eventsPerItem?: number;
  executions?: number;
}

export interface SideBySideSetup {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  sdk: string;
  bullmq: string;
  redis: string;
  temporal: string;
  sharp: string;
  libvips: string;
  photos: PhotoSet;
  scikitImage: string;
  options: {
    rounds: number;
    photos: number;
    noopItems: number;
    singleItems: number;
    rawConcurrency: number[];
    bullmqConcurrency: number;
    bullmqNoopConcurrency: number;
    bullmqChunk: number;
    quick: boolean;
  };
  command: string;
  minutes: number;
  code: string;
  /** 1-minute load average when the benchmark started and ended (other work on the machine shows here). */
  load: { before: number; after: number };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const rate = (n: number) => (n >= 100 ? fmt(n) : fmt(n, 1));

interface Summary {
  perSecond: number;
  rounds: number[];
  cpu: Record<string, number>;
  concurrency?: number;
  eventsPerItem?: number;
  seconds: number;
}

/** Medians over rounds of one workload and way; for the raw loop, of the best pool size. */
function summarize(samples: Sample[], workload: Sample['workload'], way: Way): Summary | undefined {
  const mine = samples.filter((s) => s.workload === workload && s.way === way);
  if (mine.length === 0) return undefined;
  const byConcurrency = new Map<number | undefined, Sample[]>();
  for (const s of mine) byConcurrency.set(s.concurrency, [...(byConcurrency.get(s.concurrency) ?? []), s]);
  let best: Summary | undefined;
  for (const [concurrency, group] of byConcurrency) {
    const cpu: Record<string, number> = {};
    for (const key of Object.keys(group[0].cpu)) cpu[key] = median(group.map((s) => s.cpu[key] ?? 0));
    const events = group.filter((s) => s.eventsPerItem !== undefined).map((s) => s.eventsPerItem!);
    const summary: Summary = {
      perSecond: median(group.map((s) => s.perSecond)),
      rounds: group.map((s) => s.perSecond),
      cpu,
      concurrency,
      eventsPerItem: events.length ? median(events) : undefined,
      seconds: median(group.map((s) => s.seconds)),
    };
    if (!best || summary.perSecond > best.perSecond) best = summary;
  }
  return best;
}

/** Items of one run of a workload. */
function itemsOf(workload: Sample['workload'], o: SideBySideSetup): number {
  if (workload === 'photos') return o.photos.files.length;
  return workload === 'single' ? o.options.singleItems : o.options.noopItems;
}

const workloads: { key: Sample['workload']; title: (o: SideBySideSetup) => string; unit: string }[] = [
  {
    key: 'photos',
    title: (o) =>
      `${fmt(o.photos.files.length)} real photos (JPEG, ${o.photos.megapixels.min.toFixed(1)}–${o.photos.megapixels.max.toFixed(1)} MP): tag every image, thumbnail the ${fmt(o.photos.landscape)} landscape ones`,
    unit: 'img/s',
  },
  { key: 'noop', title: (o) => `${fmt(o.options.noopItems)} no-op items`, unit: 'items/s' },
  {
    key: 'bulk',
    title: (o) => `${fmt(o.options.noopItems)} no-op items, batches of 500 in partitions of 5,000`,
    unit: 'items/s',
  },
  { key: 'single', title: (o) => `${fmt(o.options.singleItems)} no-op items, one per call`, unit: 'items/s' },
];

function cell(s: Summary | undefined, unit: string, way: Way, workload: Sample['workload'], o: SideBySideSetup) {
  if (!s) return '–';
  let how = '';
  if (way === 'raw') how = ` (pool of ${s.concurrency})`;
  if (way === 'bullmq') how = ` (concurrency ${s.concurrency})`;
  if (way === 'project') {
    const batch =
      workload === 'photos'
        ? 'image-tagging run, start→close'
        : `\`batchSize\` ${noopWorkloads[workload].batchSize}, \`partitionSize\` ${fmt(noopWorkloads[workload].partitionSize)}`;
    how = ` (${batch}; ${s.eventsPerItem?.toFixed(workload === 'single' ? 1 : 3)} events/item)`;
  }
  void o;
  return `${rate(s.perSecond)} ${unit}${how}`;
}

/** The largest ratio between the fastest and slowest round of one way (and pool size) on one workload. */
function spread(samples: Sample[]): number {
  const groups = new Map<string, number[]>();
  for (const s of samples) {
    const key = `${s.workload}/${s.way}/${s.concurrency ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), s.perSecond]);
  }
  return Math.max(1, ...[...groups.values()].map((xs) => Math.max(...xs) / Math.min(...xs)));
}

const ratio = (a: Summary | undefined, b: Summary | undefined) =>
  a && b ? `${(a.perSecond / b.perSecond).toFixed(2)}×` : '–';

function cpuText(s: Summary | undefined): string {
  if (!s) return '–';
  return Object.entries(s.cpu)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
}

export function report(o: SideBySideSetup, samples: Sample[]): string {
  const lines: string[] = [];
  const opt = o.options;
  lines.push('## Side by side: raw loop, BullMQ, this project', '');
  lines.push(
    `Measured by \`bench/side-by-side.ts\` on ${o.date}${opt.quick ? ' (**--quick**: small sizes, not the reference figures)' : ''}: the same work done three ways on one machine, ` +
      `${opt.rounds} interleaved round${opt.rounds === 1 ? '' : 's'} (in each round every way runs once, in the order raw loop, BullMQ, this project), medians over the rounds. ` +
      `The machine is shared with other work (several engineers' test runs; load average ${o.load.before.toFixed(0)} at the start and ${o.load.after.toFixed(0)} at the end, on ${o.cpus} CPUs): ` +
      `figures are noisy (the same way's rounds differed by up to ${spread(samples).toFixed(1)}×, see "rounds" below), ` +
      `so compare the ways within one run rather than across runs, and expect higher absolute figures on a quiet machine.`,
    '',
  );
  lines.push('| workload | raw loop | BullMQ 5 + Redis 7 | this project | project ÷ raw | project ÷ BullMQ |');
  lines.push('| --- | --- | --- | --- | --- | --- |');
  for (const w of workloads) {
    if (!samples.some((s) => s.workload === w.key)) continue;
    const [raw, bullmq, project] = (['raw', 'bullmq', 'project'] as Way[]).map((way) => summarize(samples, w.key, way));
    lines.push(
      `| ${w.title(o)} | ${cell(raw, w.unit, 'raw', w.key, o)} | ${cell(bullmq, w.unit, 'bullmq', w.key, o)} | ` +
        `${cell(project, w.unit, 'project', w.key, o)} | ${ratio(project, raw)} | ${ratio(project, bullmq)} |`,
    );
  }
  lines.push('');
  lines.push('### Where the CPU goes', '');
  lines.push(
    "CPU seconds per process over the measured window (medians over the rounds): the raw loop's and BullMQ's Node process " +
      "(all its threads, libvips' included), Redis; the project's worker process, the Temporal dev server and the CLI " +
      "over the run's start → close, and the CLI over its whole life (Node and tsx start-up included).",
    '',
  );
  lines.push('| workload | way | wall s | CPU s by process | per item | rounds (per s) |');
  lines.push('| --- | --- | --: | --- | --- | --- |');
  for (const w of workloads) {
    for (const way of ['raw', 'bullmq', 'project'] as Way[]) {
      const s = summarize(samples, w.key, way);
      if (!s) continue;
      const n = itemsOf(w.key, o);
      const windowCpu = Object.entries(s.cpu)
        .filter(([k]) => k !== 'CLI (whole life)')
        .reduce((sum, [, v]) => sum + v, 0);
      const label = { raw: `raw loop (pool of ${s.concurrency})`, bullmq: 'BullMQ + Redis', project: 'this project' }[
        way
      ];
      lines.push(
        `| ${w.key} | ${label} | ${s.seconds.toFixed(1)} | ${cpuText(s)} | ${fmt((1000 * windowCpu) / n, 2)} ms | ${s.rounds.map(rate).join(' / ')} |`,
      );
    }
    if (w.key === 'photos') {
      for (const c of opt.rawConcurrency) {
        const group = samples.filter((s) => s.workload === 'photos' && s.way === 'raw' && s.concurrency === c);
        if (group.length === 0) continue;
        lines.push(
          `| photos | raw loop, pool of ${c} (all tried) | ${median(group.map((s) => s.seconds)).toFixed(1)} | loop ${median(group.map((s) => s.cpu.loop)).toFixed(1)} | | ${group.map((s) => rate(s.perSecond)).join(' / ')} |`,
        );
      }
    }
  }
  lines.push('');
  lines.push(...whereTimeGoes(o, samples));
  lines.push('### What each way does', '');
  lines.push(
    `- **Photos**: ${fmt(o.photos.files.length)} JPEGs (${o.photos.megapixels.min.toFixed(2)}–${o.photos.megapixels.max.toFixed(2)} MP, mean ${o.photos.megapixels.mean.toFixed(2)} MP, ` +
      `${fmt(o.photos.bytes / 2 ** 20)} MiB, ${fmt(o.photos.landscape)} landscape, the rest portrait) made by \`bench/photos/photo-set.ts\` with sharp from the colour sample photos ` +
      `scikit-image ${o.scikitImage} ships in its wheel (\`skimage/data/\`: ${o.photos.sources.join(', ')}; 0.14–0.37 MP each): ` +
      'each file an upscaled crop of a different region, size and aspect of one of them, some mirrored. The wheel is fetched once with ' +
      '`pip download` into the git-ignored `.tools/photos/` and the set is made once per size and reused. ' +
      "The work is the image-tagging pipeline's own stage activities (`tag-image`, then `thumbnail-image` for the landscape ones; " +
      '`src/activities/image-tagging/`), results checked (thumbnails made = landscape photos).',
    `  - raw loop: a promise pool over the files calling the two activities one item at a time (in an SDK \`MockActivityEnvironment\`, whose heartbeat/log/metric calls do nothing); pool sizes ${opt.rawConcurrency.join(', ')} tried in every round, the best median reported;`,
    `  - BullMQ ${o.bullmq}: one job per file (\`addBulk\`), one \`Worker\` with concurrency ${opt.bullmqConcurrency} calling the same functions;`,
    "  - this project: `npm run cli -- run image-tagging <folder> --run <name>` (the CLI process follows the progress until the run closes) against the dev server and one worker process (`src/workers/main.ts`, all roles, default settings); images/s over the run workflow's start → close time.",
    `- **No-op items**: BullMQ: one durable job per item (\`addBulk\` in chunks of ${fmt(opt.bullmqChunk)}, job data \`{ n }\`, completed jobs kept, the default), one \`Worker\` with concurrency ${opt.bullmqNoopConcurrency} returning the job's data; ` +
      'the project: a one-stage pipeline (`start: work`; `work`: activity `noop`, `partitionSize` 1000, `batchSize` 100, or 1 for "one per call"; for "batches of 500" `batchSize` 500 and `partitionSize` 5000) run with ' +
      '`npm run cli -- run <spec.json> --generate N --run <name> --wait`. Events/item counts the history events of every execution of the run (the run and all its children, `WorkflowId STARTS_WITH`). No raw loop: a loop of no-ops measures nothing.',
    '- Every BullMQ and raw-loop run is a fresh Node process and every project run a fresh worker process (tag-image caches looks by content hash per process: a warm process would skip the decodes). ' +
      'One Redis (started by the benchmark: `redis-server --appendonly yes --appendfsync everysec --save ""`, its own folder and port) and one dev server serve the whole benchmark; ' +
      'BullMQ queues are obliterated after each run, outside the measurement. A warm-up of 1,000 no-op items each way runs first and is not reported.',
    '',
  );
  lines.push('### Machine and versions', '');
  lines.push(
    `- ${o.cpus} CPUs (${o.cpuModel}), ${o.memoryGiB.toFixed(1)} GiB memory, Node ${o.node}; everything (Redis, dev server, workers, CLI) shares the ${o.cpus} CPUs.`,
    `- Code measured: ${o.code}. Load average (1 min) ${o.load.before.toFixed(1)} at the start, ${o.load.after.toFixed(1)} at the end, on ${o.cpus} CPUs.`,
    `- Temporal ${o.temporal}, TypeScript SDK ${o.sdk}; BullMQ ${o.bullmq}, Redis ${o.redis} (Debian's \`redis-server\`); sharp ${o.sharp} (libvips ${o.libvips}).`,
    `- Command: \`${o.command}\` (${fmt(o.minutes, 1)} min). Options: \`--quick\`, \`--rounds\`, \`--photos\`, \`--noop-items\`, \`--single-items\`, \`--raw-concurrency\`, \`--bullmq-concurrency\`, \`--bullmq-noop-concurrency\`, \`--bullmq-chunk\`, \`--only\`, \`--out\` (see \`--help\`). Needs \`redis-server\` (Debian/Ubuntu: \`apt-get install -y redis-server\`) and Python 3 with pip for the first fetch of the photos.`,
  );
  return lines.join('\n');
}

/** A few sentences read off the medians: the work's own cost against each way's, and how busy the CPUs were. */
function whereTimeGoes(o: SideBySideSetup, samples: Sample[]): string[] {
  const out: string[] = [];
  const busy = (s: Summary, cpu: number) => `${Math.round((100 * cpu) / (s.seconds * o.cpus))} %`;
  const raw = summarize(samples, 'photos', 'raw');
  const bullmq = summarize(samples, 'photos', 'bullmq');
  const project = summarize(samples, 'photos', 'project');
  if (raw && project) {
    const work = raw.cpu.loop;
    const { worker = 0, server = 0, cli = 0 } = project.cpu;
    const total = worker + server + cli;
    const perImage = (x: number) => `${fmt((1000 * x) / o.photos.files.length, 1)} ms`;
    out.push(
      `- **Photos**: the work itself cost ${work.toFixed(1)} CPU-s (the raw loop, pool of ${raw.concurrency}, in ${raw.seconds.toFixed(1)} s)` +
        (bullmq
          ? `; BullMQ's process used ${bullmq.cpu.node.toFixed(1)} and Redis ${(bullmq.cpu.redis ?? 0).toFixed(1)}`
          : '') +
        `. This project's run used ${total.toFixed(1)} CPU-s over start → close: the worker process ${worker.toFixed(1)} ` +
        `(${(worker - work).toFixed(1)} more than the work: ${perImage(worker - work)} per image for activity and workflow tasks, payloads and the SDK), ` +
        `the dev server ${server.toFixed(1)} (${perImage(server)} per image), the CLI's progress ${cli.toFixed(1)}; ` +
        `it kept the CPUs ${busy(project, total)} busy over its ${project.seconds.toFixed(1)} s against the raw loop's ${busy(raw, work)}: ` +
        'what the run leaves idle is time spent waiting on task round trips (its start, its close) and other work on the machine.',
    );
  }
  for (const [key, label] of [
    ['noop', 'No-op items'],
    ['bulk', 'No-op items in batches of 500'],
    ['single', 'One per call'],
  ] as const) {
    const p = summarize(samples, key, 'project');
    const b = summarize(samples, key, 'bullmq');
    if (!p) continue;
    const n = itemsOf(key, o);
    const per = (x: number | undefined) => `${fmt((1000 * (x ?? 0)) / n, 2)} ms`;
    out.push(
      `- **${label}**: this project spent ${per(p.cpu.worker)} of worker CPU and ${per(p.cpu.server)} of dev-server CPU per item` +
        (b ? `; BullMQ ${per(b.cpu.node)} in its process and ${per(b.cpu.redis)} in Redis` : '') +
        '.',
    );
  }
  return out.length ? [...out, ''] : [];
}
