import path from 'node:path';
import { toolsDir } from '../../infra/paths';
import { ensureGoBuild } from './go-install';

/**
 * Temporal Server (the four services of a cluster) and its SQL schema tool, built with Go like the
 * CLI (src/devstack/tools/temporal-cli.ts), into .tools/temporal-server/. Same server version as the
 * CLI's dev server, so the cluster runs the server code the dev-server tests run. The PostgreSQL
 * schemas ship inside the server module; they are copied beside the binaries.
 */
export const temporalServerVersion = '1.29.1';
const serverModule = 'go.temporal.io/server';

export const temporalServerDir = path.join(toolsDir, 'temporal-server');

export interface TemporalServerTools {
  /** `server --config … --env … start --service=frontend` */
  server: string;
  /** temporal-sql-tool */
  sqlTool: string;
}

export function temporalServerTools(): TemporalServerTools {
  return {
    server: path.join(temporalServerDir, 'bin', 'server'),
    sqlTool: path.join(temporalServerDir, 'bin', 'sql'),
  };
}

/** Builds Temporal Server and temporal-sql-tool once (cached by a version stamp). */
export async function ensureTemporalServer(log: (line: string) => void): Promise<TemporalServerTools> {
  const tools = temporalServerTools();
  const moduleAtVersion = `${serverModule}@v${temporalServerVersion}`;
  await ensureGoBuild(
    {
      what: `Temporal Server ${temporalServerVersion} and temporal-sql-tool`,
      packages: [
        `${serverModule}/cmd/server@v${temporalServerVersion}`,
        `${serverModule}/cmd/tools/sql@v${temporalServerVersion}`,
      ],
      binDir: path.dirname(tools.server),
      stampFile: path.join(temporalServerDir, 'VERSION'),
      stamp: moduleAtVersion,
      binaries: [tools.server, tools.sqlTool],
    },
    log,
  );
  return tools;
}
