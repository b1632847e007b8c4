import path from 'node:path';
import { toolsDir } from '../../infra/paths';
import { ensureGoBuild } from './go-install';

/**
 * Versity S3 Gateway (Apache-2.0): a real S3 API server over a POSIX folder, built with Go into
 * .tools/versitygw/. The project's S3 backend and its tests talk to it as they would to any S3
 * service (AWS, MinIO, Ceph); nothing in the project depends on it being Versity.
 */
export const versitygwVersion = '1.8.0';
const versitygwPackage = `github.com/versity/versitygw/cmd/versitygw@v${versitygwVersion}`;

export const versitygwDir = path.join(toolsDir, 'versitygw');
export const versitygwBinary = path.join(versitygwDir, 'bin', 'versitygw');

/** Builds the gateway once (cached by a version stamp); returns the binary's path. */
export async function ensureVersitygw(log: (line: string) => void): Promise<string> {
  await ensureGoBuild(
    {
      what: `Versity S3 Gateway ${versitygwVersion}`,
      packages: [versitygwPackage],
      binDir: path.dirname(versitygwBinary),
      stampFile: path.join(versitygwDir, 'VERSION'),
      stamp: versitygwPackage,
      binaries: [versitygwBinary],
    },
    log,
  );
  return versitygwBinary;
}
