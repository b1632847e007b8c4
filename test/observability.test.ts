/**
 * Observability as an operator meets it, on the dev server: a worker process with its own metrics
 * port runs the sign-up pipeline with poison items. Its /metrics serve the SDK's worker metrics
 * and the project's per-stage and per-run item counters, equal to the run's result; its log
 * lines are JSON and carry the workflow, run and item IDs. Telemetry settings that cannot work
 * are refused with the fix.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { LogEntry } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { runPipeline } from '../src/client/pipeline-run';
import { metricNames } from '../src/core/metrics';
import { loadPipelineSpecFile } from '../src/pipelines/load';
import type { PipelineItem, PipelineSpec, ShardStage } from '../src/pipelines/spec';
import { repoRoot } from '../src/infra/paths';
import { jsonLogLine } from '../src/infra/telemetry/json-log';
import { logFormatFromEnv, logLevelFromEnv, parseMetricsAddress } from '../src/infra/telemetry/settings';
import { freePort, waitFor } from '../src/infra/wait';
import { startWorkerProcess } from '../src/infra/worker-process';
import { readPipelineItems } from '../src/sources/pipeline-items';
import type { PipelineRunResult } from '../src/workflows/pipeline';
import { isolatedConfig } from './support/config';
import { parsePrometheusText, Sample, scrape, sumOf } from './support/prometheus';
import { sharedDevServer, sharedWorkflowBundle } from './support/servers';

type LogLine = Record<string, unknown>;

const outputDir = path.join(repoRoot, 'test-output', 'observability');

/** The worker process reads its workflow bundle from a file: the suite's shared bundle, written once. */
async function workflowBundleFile(): Promise<string> {
  const file = path.join(outputDir, 'workflow-bundle.js');
  fs.mkdirSync(outputDir, { recursive: true });
  fs.writeFileSync(file, (await sharedWorkflowBundle()).code);
  return file;
}

/**
 * pipelines/examples/signup-notify.yaml with poison handling to watch: its sharded `enrich` stage
 * runs `fail-when` (items fail as their data says) on this test's own shard queues, with quick
 * retries, and tolerates the two poison items of 25.
 */
function signupSpec(shardQueue: string): PipelineSpec {
  const example = loadPipelineSpecFile(path.join(repoRoot, 'pipelines', 'examples', 'signup-notify.yaml'));
  const enrich = example.stages.enrich as ShardStage;
  return {
    ...example,
    toleratedFailurePercent: 10,
    stages: {
      ...example.stages,
      enrich: {
        ...enrich,
        queue: shardQueue,
        activity: 'fail-when',
        retry: { initialInterval: '100 ms', backoffCoefficient: 1, maximumAttempts: 3 },
      },
    },
  };
}

/** The example's users; user-005 is invalid, user-007 fails every attempt, user-011 fails once. */
async function signupItems(): Promise<PipelineItem[]> {
  const fail: Record<string, unknown> = { 'user-005': 'invalid', 'user-007': 'always', 'user-011': 1 };
  const items = await readPipelineItems(path.join(repoRoot, 'pipelines', 'items', 'signup-users.jsonl'));
  return items.map((item) => (item.id in fail ? { ...item, data: { ...item.data, fail: fail[item.id] } } : item));
}

describe('observability: Prometheus metrics and JSON logs of a worker process', function () {
  const runName = `observed-${process.pid}`;
  let spec: PipelineSpec;
  let items: PipelineItem[];
  let result: PipelineRunResult;
  let metrics: Sample[];
  let logLines: string[];

  before(async () => {
    const env = await sharedDevServer();
    const config = isolatedConfig(env.address);
    const shardQueue = `observed-enrich-${process.pid}`;
    spec = signupSpec(shardQueue);
    items = await signupItems();
    const metricsUrl = `http://127.0.0.1:${await freePort()}/metrics`;
    const logFile = path.join(outputDir, 'worker.log');
    fs.rmSync(logFile, { force: true });
    const worker = await startWorkerProcess({
      name: 'observed worker',
      config,
      workflowBundlePath: await workflowBundleFile(),
      logFile,
      roles: 'workflows,stages',
      shards: `${shardQueue}:3`,
      metricsAddress: new URL(metricsUrl).host,
      env: { BATCH_LOG_LEVEL: 'DEBUG' }, // the per-batch lines too
    });
    try {
      result = await runPipeline(env.client, config, spec, items, { runName });
      // The last counters leave the workflow sandbox right after its final task: wait for them.
      const counted = async () =>
        sumOf(parsePrometheusText(await scrape(metricsUrl)), metricNames.pipelineItems, { outcome: 'completed' }) ===
        result.completed;
      await waitFor('the run counters on /metrics', counted, 10_000).catch(() => undefined);
      // The assertions below say what differs, if anything; the scrape stays for a look afterwards.
      const text = await scrape(metricsUrl);
      fs.writeFileSync(path.join(outputDir, 'metrics.txt'), text);
      metrics = parsePrometheusText(text);
    } finally {
      await worker.stop();
    }
    logLines = fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
  });

  it('runs the pipeline with the poison items dead-lettered', () => {
    assert.equal(result.total, items.length);
    assert.deepEqual(result.deadLetters.map((d) => d.itemId).sort(), ['user-005', 'user-007']);
    assert.ok(result.completed > 0);
  });

  it("serves the SDK's worker metrics", () => {
    assert.equal(sumOf(metrics, 'temporal_workflow_completed', { workflow_type: 'pipelineRun' }), 1);
    assert.ok(
      (sumOf(metrics, 'temporal_activity_execution_failed', { activity_type: 'fail-when' }) ?? 0) > 0,
      'failed attempts of the poison items are counted',
    );
    assert.ok((sumOf(metrics, 'temporal_activity_execution_latency_count', { activity_type: 'annotate' }) ?? 0) > 0);
    assert.notEqual(
      sumOf(metrics, 'temporal_worker_task_slots_available', { worker_type: 'ActivityWorker' }),
      undefined,
    );
  });

  it("counts each stage's passed, dropped and dead-lettered items as the run's result does", () => {
    const scraped: Record<string, Record<string, number>> = {};
    const expected: Record<string, Record<string, number>> = {};
    for (const [stage, counts] of Object.entries(result.stages)) {
      const of = (outcome: string) =>
        sumOf(metrics, metricNames.stageItems, { pipeline: spec.name, stage, outcome }) ?? 0;
      scraped[stage] = { passed: of('passed'), dropped: of('dropped'), dead_lettered: of('dead_lettered') };
      expected[stage] = { passed: counts.passed, dropped: counts.dropped, dead_lettered: counts.deadLettered };
    }
    assert.deepEqual(scraped, expected);
    assert.equal(expected.enrich.dead_lettered, 2);
    assert.ok(expected['opted-in'].dropped > 0, 'the filter dropped the users who did not opt in');
  });

  it("counts the run's completed, dropped and dead-lettered items as its result does", () => {
    const of = (outcome: string) => sumOf(metrics, metricNames.pipelineItems, { pipeline: spec.name, outcome }) ?? 0;
    assert.deepEqual(
      { completed: of('completed'), dropped: of('dropped'), dead_lettered: of('dead_lettered') },
      { completed: result.completed, dropped: result.dropped, dead_lettered: result.deadLettered },
    );
  });

  it('times every item a stage activity passed', () => {
    for (const [stage, counts] of Object.entries(result.stages)) {
      const stageKind = spec.stages[stage].kind;
      if (stageKind !== 'activity' && stageKind !== 'shard') continue;
      const timed = sumOf(metrics, `${metricNames.stageItemDuration}_count`, {
        pipeline: spec.name,
        stage,
        outcome: 'ok',
      });
      assert.equal(timed, counts.passed, `items timed in stage ${stage}`);
    }
  });

  it('logs JSON lines with the workflow, run and item IDs', () => {
    const parsed = logLines.map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        assert.fail(`not a JSON log line: ${line}`);
      }
    });
    for (const line of parsed) {
      assert.equal(typeof line.time, 'string');
      assert.match(String(line.level), /^(TRACE|DEBUG|INFO|WARN|ERROR)$/);
      assert.equal(line.process, 'worker');
    }
    assert.ok(parsed.some((l) => l.message === 'worker ready' && typeof l.metrics === 'string'));

    const ofRun = (l: LogLine) => String(l.workflowId).startsWith(`${spec.name}/${runName}/`) && l.run === runName;
    const batches = parsed.filter((l) => l.message === 'stage batch done' && ofRun(l));
    for (const item of items) {
      assert.ok(
        batches.some((l) => l.stage === 'enrich' && (l.itemIds as string[]).includes(item.id)),
        `a batch line of stage enrich names ${item.id}`,
      );
    }
    assert.ok(batches.every((l) => typeof l.activityType === 'string' && typeof l.attempt === 'number'));

    const invalid = parsed.find((l) => l.message === 'stage item failed' && l.itemId === 'user-005');
    assert.ok(invalid && ofRun(invalid), 'the invalid item is logged with its run');
    assert.equal(invalid.errorType, 'InvalidInput');
    assert.equal(invalid.taskToken, undefined, 'task tokens stay out of logs');

    const deadLettered = parsed.filter((l) => l.message === 'item dead-lettered');
    assert.deepEqual(deadLettered.map((l) => l.itemId).sort(), ['user-005', 'user-007']);
    for (const line of deadLettered) {
      assert.ok(ofRun(line) && typeof line.runId === 'string' && line.workflowType === 'pipelinePartition');
    }
  });
});

describe('observability: settings that cannot work', function () {
  it('refuses to start a worker whose metrics port is taken, naming the variable to change', async () => {
    const env = await sharedDevServer();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      await assert.rejects(
        startWorkerProcess({
          name: 'worker on a taken port',
          config: isolatedConfig(env.address),
          logFile: path.join(outputDir, 'taken-port.log'),
          roles: 'stages',
          metricsAddress: `127.0.0.1:${port}`,
        }),
        new RegExp(
          `Cannot serve Prometheus metrics on 127\\.0\\.0\\.1:${port} \\(BATCH_METRICS_PORT\\): Address already in use.*Set BATCH_METRICS_PORT to a free port, or to 0`,
        ),
      );
    } finally {
      taken.close();
    }
  });

  it('explains metrics ports, log formats and levels it does not understand', () => {
    assert.throws(
      () => parseMetricsAddress('BATCH_METRICS_PORT', 'ninety'),
      /BATCH_METRICS_PORT=ninety is not a metrics port; set a port \(9464\), host:port \(0\.0\.0\.0:9464\) or 0/,
    );
    assert.throws(() => parseMetricsAddress('BATCH_METRICS_PORT', '70000'), /not a metrics port/);
    assert.deepEqual(parseMetricsAddress('BATCH_METRICS_PORT', '0.0.0.0:9464'), { host: '0.0.0.0', port: 9464 });
    assert.equal(parseMetricsAddress('BATCH_METRICS_PORT', '0'), undefined);
    assert.throws(() => logFormatFromEnv({ BATCH_LOG_FORMAT: 'xml' }, false), /set json or text/);
    assert.equal(logFormatFromEnv({}, true), 'text');
    assert.equal(logFormatFromEnv({}, false), 'json');
    assert.throws(() => logLevelFromEnv({ BATCH_LOG_LEVEL: 'loud' }), /set one of TRACE, DEBUG, INFO, WARN, ERROR/);
  });

  it('writes errors in log attributes with their message and type, and keeps the fixed fields first', () => {
    const entry: LogEntry = {
      level: 'WARN',
      message: 'Activity failed',
      timestampNanos: 1_700_000_000_000_000_000n,
      meta: { message: 'not this', error: ApplicationFailure.nonRetryable('bad item', 'InvalidInput'), attempt: 2 },
    };
    const line = JSON.parse(jsonLogLine(entry, 'worker')) as LogLine;
    assert.deepEqual(Object.keys(line).slice(0, 5), ['time', 'level', 'message', 'process', 'pid']);
    assert.equal(line.time, '2023-11-14T22:13:20.000Z');
    assert.equal(line.message, 'Activity failed');
    assert.deepEqual(
      { ...(line.error as LogLine), stack: undefined },
      {
        name: 'ApplicationFailure',
        message: 'bad item',
        type: 'InvalidInput',
        nonRetryable: true,
        stack: undefined,
      },
    );
  });
});
