/**
 * `npm run cli -- status [--config FILE]`: the autoscaled queues — backlog and tasks in flight
 * read live from the server, the autoscaler's worker processes, min/max and last decisions.
 */
import path from 'node:path';
import { defaultAutoscaleFile, loadAutoscaleConfig } from '../autoscaler/config';
import { autoscalerAlive, autoscalerStateFile, readAutoscalerState } from '../autoscaler/state';
import { autoscalerStatus, formatAutoscalerStatus } from '../autoscaler/status';
import type { BatchConfig } from '../infra/config';
import { dataDir, displayPath } from '../infra/paths';
import type { WorkflowServiceHolder } from '../workers/work-stealer';

export async function autoscalerStatusReport(
  configFile: string | undefined,
  client: WorkflowServiceHolder,
  config: BatchConfig,
): Promise<string> {
  const file = configFile ? path.resolve(configFile) : process.env.BATCH_AUTOSCALE_CONFIG || defaultAutoscaleFile;
  const autoscale = loadAutoscaleConfig(file, config);
  const state = readAutoscalerState(autoscalerStateFile(dataDir));
  const running = state && autoscalerAlive(state) ? state : undefined;
  const queues = await autoscalerStatus(client, config.namespace, autoscale, running);
  return formatAutoscalerStatus(queues, {
    running: running !== undefined,
    pid: running?.pid,
    updatedAt: running?.updatedAt,
    configFile: displayPath(file),
  });
}
