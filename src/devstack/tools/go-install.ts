import fs from 'node:fs';
import path from 'node:path';
import { programExists, runProgram } from '../../infra/exec';

/**
 * Builds Go commands into a folder of `.tools/` and marks the folder with a stamp naming what was
 * built, so the next set-up reuses the binaries instead of asking Go again. The stamp is written
 * last: a build interrupted half-way is built again.
 */
export interface GoBuild {
  /** What the build is, for messages: "Temporal Server 1.29.1". */
  what: string;
  /** Module paths with @version, built by one `go install`. */
  packages: string[];
  /** The folder (GOBIN) the binaries land in. */
  binDir: string;
  /** The stamp file; its content is `stamp`. */
  stampFile: string;
  stamp: string;
  /** Binaries that must exist after the build (full paths). */
  binaries: string[];
  /** Extra work after the binaries are built and before the stamp is written. */
  after?: () => Promise<void>;
}

export function goBuildCurrent(build: GoBuild): boolean {
  try {
    return (
      fs.readFileSync(build.stampFile, 'utf8').trim() === build.stamp && build.binaries.every((b) => fs.existsSync(b))
    );
  } catch {
    return false;
  }
}

/** Builds when the stamp is missing or names another version; returns the seconds it took (0 when cached). */
export async function ensureGoBuild(build: GoBuild, log: (line: string) => void): Promise<number> {
  if (goBuildCurrent(build)) return 0;
  if (!programExists('go', 'version')) {
    throw new Error(
      `Go is needed to build ${build.what} and was not found on PATH.\n` +
        'Install Go 1.24 or newer (https://go.dev/dl/ or `apt-get install golang`), or point the project at an ' +
        'existing Temporal cluster with TEMPORAL_ADDRESS=host:7233.',
    );
  }
  log(`Building ${build.what} with Go into ${build.binDir} (first build takes minutes; cached afterwards)...`);
  const started = Date.now();
  fs.rmSync(build.stampFile, { force: true });
  fs.mkdirSync(build.binDir, { recursive: true });
  await runProgram('go', ['install', ...build.packages], {
    env: { ...process.env, GOBIN: build.binDir, GOFLAGS: '-mod=mod' },
  });
  for (const binary of build.binaries) {
    if (!fs.existsSync(binary)) throw new Error(`go install finished but ${binary} is missing.`);
  }
  await build.after?.();
  fs.mkdirSync(path.dirname(build.stampFile), { recursive: true });
  fs.writeFileSync(build.stampFile, `${build.stamp}\n`);
  const seconds = Math.round((Date.now() - started) / 1000);
  log(`${build.what} built in ${seconds} s.`);
  return seconds;
}
