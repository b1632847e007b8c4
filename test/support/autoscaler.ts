/** An autoscaler for tests on the dev server, keeping every event it logs. */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AutoscaleConfig } from '../../src/autoscaler/config';
import { Autoscaler, type AutoscalerOptions } from '../../src/autoscaler/controller';
import { poolWorkerStarter } from '../../src/autoscaler/pool-worker';
import { type AutoscalerEvent, autoscalerStateFile } from '../../src/autoscaler/state';
import type { BatchConfig } from '../../src/infra/config';
import { waitFor } from '../../src/infra/wait';

/**
 * An autoscaler of `autoscale` whose worker processes run the project's workers on `config`,
 * writing its state and logs under `outDir`; `options` replace any of its settings. `events` are
 * copies of what it logged (as its JSON log lines say them), `decisions` the scaling decisions.
 */
export function recordingAutoscaler(
  env: TestWorkflowEnvironment,
  config: BatchConfig,
  autoscale: AutoscaleConfig,
  outDir: string,
  options: Partial<AutoscalerOptions> = {},
) {
  const events: AutoscalerEvent[] = [];
  const stateFile = autoscalerStateFile(outDir);
  const autoscaler = new Autoscaler({
    client: env.client,
    namespace: config.namespace,
    autoscale,
    startWorker: poolWorkerStarter(config, undefined),
    logDir: path.join(outDir, 'logs'),
    stateFile,
    drainMs: 40_000,
    log: (event) => events.push(JSON.parse(JSON.stringify(event)) as AutoscalerEvent),
    ...options,
  });
  const decisions = () => events.flatMap((e) => (e.event === 'decision' ? [e] : []));
  const count = (event: AutoscalerEvent['event']) => events.filter((e) => e.event === event).length;
  /** Waits until `pool` has no worker left and every worker process it started has exited. */
  const backToZero = (pool: string) =>
    waitFor(
      `the pool ${pool} to go back to zero workers and its processes to exit`,
      async () => autoscaler.workerCount(pool) === 0 && count('worker-exited') === count('worker-started'),
      60_000,
    );
  return { autoscaler, events, decisions, stateFile, backToZero };
}
