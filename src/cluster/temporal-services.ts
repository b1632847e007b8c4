import path from 'node:path';
import { ManagedProcess, startProcess } from '../infra/processes';
import { withDieWithParent } from '../infra/die-with-parent';
import { repoRoot } from '../infra/paths';
import { portOpen, waitFor } from '../infra/wait';

/**
 * The four Temporal services as separate processes, each `server start --service=<name>` on the
 * project's one config template (deploy/temporal/config_template.yaml), which the server renders
 * itself from environment variables; only the values differ per environment.
 */
export const temporalServices = ['frontend', 'history', 'matching', 'worker'] as const;
export type TemporalService = (typeof temporalServices)[number];

export const deployTemporalDir = path.join(repoRoot, 'deploy', 'temporal');
/** `--env config_template` makes the server load deploy/temporal/config_template.yaml. */
export const configTemplateEnv = 'config_template';
export const dynamicConfigFile = path.join(deployTemporalDir, 'dynamicconfig.yaml');

export interface ServicePorts {
  grpc: number;
  membership: number;
  metrics: number;
}

export interface ServicesOptions {
  serverPath: string;
  ports: Record<TemporalService, ServicePorts> & { frontendHttp: number };
  db: { port: number; host: string };
  numHistoryShards: number;
  logDir: string;
  logLevel?: string;
}

/** The values the config template reads, for one service process. */
export function serviceEnv(options: ServicesOptions, service: TemporalService): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    TEMPORAL_LOG_LEVEL: options.logLevel ?? 'warn',
    TEMPORAL_NUM_HISTORY_SHARDS: String(options.numHistoryShards),
    TEMPORAL_DB_HOST: options.db.host,
    TEMPORAL_DB_PORT: String(options.db.port),
    TEMPORAL_DB_USER: 'temporal',
    TEMPORAL_DB_PASSWORD: 'temporal',
    // Sized for 2 cores and 4 processes sharing one PostgreSQL.
    TEMPORAL_DB_MAX_CONNS: '20',
    TEMPORAL_BIND_ADDRESS: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    TEMPORAL_FRONTEND_ADDRESS: `127.0.0.1:${options.ports.frontend.grpc}`,
    TEMPORAL_FRONTEND_HTTP_PORT: String(options.ports.frontendHttp),
    TEMPORAL_METRICS_PORT: String(options.ports[service].metrics),
    TEMPORAL_DYNAMIC_CONFIG_FILE: dynamicConfigFile,
  };
  for (const s of temporalServices) {
    env[`TEMPORAL_${s.toUpperCase()}_GRPC_PORT`] = String(options.ports[s].grpc);
    env[`TEMPORAL_${s.toUpperCase()}_MEMBERSHIP_PORT`] = String(options.ports[s].membership);
  }
  return env;
}

export function serverArgs(...command: string[]): string[] {
  return ['--root', '/', '--config', deployTemporalDir, '--env', configTemplateEnv, '--allow-no-auth', ...command];
}

export function serviceLogFile(options: ServicesOptions, service: TemporalService): string {
  return path.join(options.logDir, `temporal-${service}.log`);
}

/**
 * Starts one service; returns once it listens: on its gRPC port, or for the worker service (which
 * serves no gRPC, it only runs system workflows) on its membership port.
 */
export async function startService(options: ServicesOptions, service: TemporalService): Promise<ManagedProcess> {
  const port = service === 'worker' ? options.ports.worker.membership : options.ports[service].grpc;
  const logFile = serviceLogFile(options, service);
  // After a SIGKILL the old ports may take a moment to be released.
  await waitFor(`port ${port} (${service}) to be free`, async () => !(await portOpen(port)), 30_000);
  // Killed with us even when we are SIGKILLed: no orphaned service holds the ports.
  const [program, args] = withDieWithParent('KILL', options.serverPath, serverArgs('start', '--service', service));
  const proc = startProcess(`temporal ${service}`, program, args, {
    env: { ...process.env, ...serviceEnv(options, service) },
    output: logFile,
  });
  try {
    await waitFor(
      `the Temporal ${service} service on 127.0.0.1:${port} (log: ${logFile})`,
      async () => {
        if (!proc.running)
          throw new Error(`The Temporal ${service} service exited (${proc.exitDescription}); see ${logFile}.`);
        return portOpen(port);
      },
      90_000,
    );
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return proc;
}
