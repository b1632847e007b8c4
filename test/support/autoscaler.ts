/** An autoscaler for tests on the dev server, keeping every event it logs. */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AutoscaleConfig } from '../../src/autoscaler/config';
import { Autoscaler, type AutoscalerOptions } from '../../src/autoscaler/controller';
import { poolWorkerStarter } from '../../src/autoscaler/pool-worker';
import { type AutoscalerEvent, autoscalerStateFile } from '../../src/autoscaler/state';
import type { BatchConfig } from '../../src/infra/config';

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
  return { autoscaler, events, decisions, stateFile };
}
