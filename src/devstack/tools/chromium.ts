import path from 'node:path';
import { findOnPath, isExecutableFile, programExists, runProgram } from '../../infra/exec';

/**
 * Chromium for the Web UI test (a headless browser driven by puppeteer-core). Order: the
 * CHROMIUM_PATH environment variable, then `chromium` on PATH, then Debian's `chromium` package
 * installed with apt-get — only as root, since installing system packages needs it; otherwise
 * the error says what to install.
 */

const packageName = 'chromium';

function installHint(): string {
  return (
    `Install Debian's package (\`sudo apt-get install -y ${packageName}\`, or your system's Chromium) ` +
    'or set CHROMIUM_PATH to a Chromium or Chrome executable.'
  );
}

function fromEnvironment(): string | undefined {
  const configured = process.env.CHROMIUM_PATH;
  if (!configured) return undefined;
  const resolved = path.resolve(configured);
  if (!isExecutableFile(resolved)) {
    throw new Error(`CHROMIUM_PATH=${configured} does not point to an executable file; fix or unset it.`);
  }
  return resolved;
}

async function installWithApt(log: (line: string) => void): Promise<string> {
  const started = Date.now();
  log(`Chromium not found; installing Debian's ${packageName} package with apt-get (once, about a minute)...`);
  // Non-interactive: no prompts for configuration files or time zones during `npm test`.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runProgram('apt-get', ['update'], { env });
  await runProgram('apt-get', ['install', '-y', packageName], { env });
  const installed = findOnPath('chromium');
  if (!installed) {
    throw new Error(`apt-get installed ${packageName} but there is still no \`chromium\` on PATH. ${installHint()}`);
  }
  log(`Chromium installed in ${Math.round((Date.now() - started) / 1000)} s: ${installed}.`);
  return installed;
}

/** Returns the path of a Chromium executable, installing Debian's package when missing and allowed. */
export async function ensureChromium(log: (line: string) => void): Promise<string> {
  const found = fromEnvironment() ?? findOnPath('chromium');
  if (found) return found;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !programExists('apt-get', '--version')) {
    throw new Error(
      `The Web UI test needs Chromium, which is not on PATH and cannot be installed automatically here ` +
        `(${isRoot ? 'no apt-get' : 'installing system packages needs root'}). ${installHint()}`,
    );
  }
  return installWithApt(log);
}
