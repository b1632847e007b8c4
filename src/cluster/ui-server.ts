import path from 'node:path';
import { ManagedProcess, startProcess } from '../infra/processes';
import { portOpen, waitFor } from '../infra/wait';
import { withDieWithParent } from '../infra/die-with-parent';
import { deployTemporalDir } from './temporal-services';

/**
 * The Temporal Web UI server pointed at the cluster's frontend. Its config is the project's
 * deploy/temporal/ui/ui.yaml template (rendered by the UI server from environment variables,
 * the same variables the temporalio/ui image reads in docker-compose.yml).
 */
export interface UiServerOptions {
  uiServerPath: string;
  frontendAddress: string;
  port: number;
  namespace: string;
  logFile: string;
}

export async function startUiServer(options: UiServerOptions): Promise<ManagedProcess> {
  const [program, args] = withDieWithParent('KILL', options.uiServerPath, [
    '--root',
    '/',
    '--config',
    path.join(deployTemporalDir, 'ui'),
    '--env',
    'ui',
    'start',
  ]);
  const proc = startProcess('temporal ui-server', program, args, {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: options.frontendAddress,
      TEMPORAL_UI_HOST: '127.0.0.1',
      TEMPORAL_UI_PORT: String(options.port),
      TEMPORAL_DEFAULT_NAMESPACE: options.namespace,
    },
    output: options.logFile,
  });
  try {
    await waitFor(
      `the Temporal UI server on 127.0.0.1:${options.port} (log: ${options.logFile})`,
      async () => {
        if (!proc.running) throw new Error(`The UI server exited (${proc.exitDescription}); see ${options.logFile}.`);
        return portOpen(options.port);
      },
      30_000,
    );
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return proc;
}
