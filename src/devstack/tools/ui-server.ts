import path from 'node:path';
import { toolsDir } from '../../infra/paths';
import { ensureGoBuild } from './go-install';

/**
 * The Temporal Web UI server (the same UI the dev server embeds), built with Go into
 * .tools/ui-server/ and pointed at a cluster's frontend (src/cluster/ui-server.ts).
 */
export const uiServerVersion = '2.42.1';
const uiModule = 'github.com/temporalio/ui-server/v2';

export const uiServerDir = path.join(toolsDir, 'ui-server');
export const uiServerPath = path.join(uiServerDir, 'bin', 'server');

export async function ensureUiServer(log: (line: string) => void): Promise<string> {
  await ensureGoBuild(
    {
      what: `Temporal UI server ${uiServerVersion}`,
      packages: [`${uiModule}/cmd/server@v${uiServerVersion}`],
      binDir: path.dirname(uiServerPath),
      stampFile: path.join(uiServerDir, 'VERSION'),
      stamp: `${uiModule}@v${uiServerVersion}`,
      binaries: [uiServerPath],
    },
    log,
  );
  return uiServerPath;
}
