import fs from 'node:fs';
import path from 'node:path';
import { runProgram, programExists } from '../../infra/exec';
import { displayPath, toolsDir } from '../../infra/paths';

/**
 * The Temporal CLI (dev server + Web UI), built from source with the machine's Go because no
 * prebuilt download can be reached here. v1.5.1 is the newest tag `go install` accepts (later
 * tags carry a `replace` directive); it ships Temporal Server 1.29 and the Web UI.
 */
export const temporalCliVersion = '1.5.1';
const modulePath = 'github.com/temporalio/cli/cmd/temporal';

export const temporalCliPath = path.join(toolsDir, 'bin', 'temporal');

/** The module version Go embedded in the binary (`temporal --version` says 0.0.0-DEV when built this way). */
async function installedVersion(): Promise<string | undefined> {
  if (!fs.existsSync(temporalCliPath)) return undefined;
  try {
    const { stdout } = await runProgram('go', ['version', '-m', temporalCliPath]);
    return /\bmod\s+github\.com\/temporalio\/cli\s+v(\S+)/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

/** Returns the path of a Temporal CLI of the pinned version, building it once if needed. */
export async function ensureTemporalCli(log: (line: string) => void): Promise<string> {
  const found = await installedVersion();
  if (found === temporalCliVersion) return temporalCliPath;
  if (!programExists('go', 'version')) {
    throw new Error(
      'Go is needed to build the Temporal dev server (the Temporal CLI) and was not found on PATH.\n' +
        'Install Go 1.23 or newer (https://go.dev/dl/ or `apt-get install golang`), or point the project at an ' +
        'existing Temporal server with TEMPORAL_ADDRESS=host:7233.',
    );
  }
  log(
    found
      ? `Temporal CLI ${found} found, rebuilding ${temporalCliVersion}...`
      : `Building the Temporal CLI ${temporalCliVersion} with Go into ${displayPath(temporalCliPath)} (first build takes several minutes; cached afterwards)...`,
  );
  const started = Date.now();
  await runProgram('go', ['install', `${modulePath}@v${temporalCliVersion}`], {
    env: { ...process.env, GOBIN: path.dirname(temporalCliPath), GOFLAGS: '-mod=mod' },
  });
  const built = await installedVersion();
  if (built !== temporalCliVersion) {
    throw new Error(
      `Built the Temporal CLI but it reports version ${built ?? 'unknown'}, expected ${temporalCliVersion}.`,
    );
  }
  log(`Temporal CLI ${built} built in ${Math.round((Date.now() - started) / 1000)} s.`);
  return temporalCliPath;
}
