/**
 * Builds the Java time-skipping test server (io.temporal:temporal-test-server) as a local executable for
 * `TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } })`.
 *
 * The SDK runs `<path> <port>` and gives the server about 5 s to answer gRPC, so the launcher starts the JVM
 * with start-up tuned flags and an AppCDS archive recorded by a training run. See docs/test-server.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { runProgram as run } from '../../infra/exec';
import { toolsDir } from '../../infra/paths';
import { freePort, portOpen, waitFor } from '../../infra/wait';

export const testServerVersion = '1.34.0';

const mainClass = 'io.temporal.testserver.TestServer';
const installDir = path.join(toolsDir, 'test-server');
const libDir = path.join(installDir, 'lib');
const launcherPath = path.join(installDir, 'temporal-test-server');
const archivePath = path.join(installDir, 'app-cds.jsa');
const stampPath = path.join(installDir, 'stamp.json');
const lockPath = `${installDir}.lock`;
const pomPath = path.join(__dirname, 'test-server-pom.xml');

const installHint =
  'Java 17+ and Maven are needed to build the time-skipping test server: apt-get install openjdk-17-jdk-headless maven';

/**
 * JVM flags for a short-lived server on a small machine. The archive is only valid with the same flags,
 * so the training run and the launcher both use this list (and the stamp records it).
 */
export const testServerJvmFlags: readonly string[] = [
  '-XX:TieredStopAtLevel=1', // C1 only: C2 compiles burn the second core during start-up for no gain in tests
  '-XX:+UseSerialGC', // no parallel GC worker threads to set up; the heap stays small
  '-XX:-UsePerfData', // skips the hsperfdata mmap file in /tmp
  '-Xshare:auto', // use the CDS archive when valid, fall back to normal class loading otherwise
];

/** What the installed files were built from; any difference triggers a rebuild. */
interface Stamp {
  version: string;
  java: string;
  javaVersion: string;
  installDir: string;
  jvmFlags: string[];
  jars: string[];
}

let pending: Promise<string> | undefined;

/**
 * Returns the absolute path of the test server launcher, building it on first use (Maven download plus a
 * CDS training run, a minute or two) and reusing it afterwards.
 */
export async function ensureTestServer(log: (line: string) => void): Promise<string> {
  // One build per process even when several suites ask at once.
  pending ??= ensureOnce(log).finally(() => {
    pending = undefined;
  });
  return pending;
}

async function ensureOnce(log: (line: string) => void): Promise<string> {
  const java = await findJava();
  const expected = { version: testServerVersion, ...java, installDir, jvmFlags: [...testServerJvmFlags] };
  if (await isCurrent(expected)) return launcherPath;
  return withInstallLock(log, async () => {
    // Another process may have finished the build while we waited for the lock.
    if (await isCurrent(expected)) return launcherPath;
    await build(expected, log);
    return launcherPath;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Build steps

async function build(expected: Omit<Stamp, 'jars'>, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  await requireProgram('mvn', ['-v']);
  log(
    `Building the Temporal time-skipping test server ${testServerVersion} in ${installDir} ` +
      '(the first build may take a minute or two: Maven fetches ~40 MB of jars, then a training run of the server ' +
      'records its class-data-sharing archive)',
  );
  await fs.rm(installDir, { recursive: true, force: true });
  await fs.mkdir(libDir, { recursive: true });

  log('  copying the server and its runtime dependencies with Maven');
  const jars = await copyJars();
  const classpath = jars.map((jar) => path.join(libDir, jar)).join(path.delimiter);
  await writeLauncher(expected.java, classpath);

  log('  recording the class-data-sharing archive (one training run of the server)');
  await recordArchive(expected.java, classpath, log);

  const stamp: Stamp = { ...expected, jars };
  await fs.writeFile(stampPath, `${JSON.stringify(stamp, null, 2)}\n`);
  log(`Test server ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${launcherPath}`);
}

/** Copies the server jar and its runtime dependencies into lib/; returns the jar names, sorted. */
async function copyJars(): Promise<string[]> {
  await run('mvn', [
    '-q',
    '-B',
    '-f',
    pomPath,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${libDir}`,
    '-DincludeScope=runtime',
    // The TS constant is the single source of truth; the pom's property is only its default.
    `-Dtemporal.test-server.version=${testServerVersion}`,
  ]);
  const jars = (await fs.readdir(libDir)).filter((name) => name.endsWith('.jar')).sort();
  if (!jars.includes(`temporal-test-server-${testServerVersion}.jar`)) {
    throw new Error(`Maven did not produce temporal-test-server-${testServerVersion}.jar in ${libDir}`);
  }
  return jars;
}

/** java arguments shared by the launcher and the training run: CDS only accepts the same class path and flags. */
function javaArgs(classpath: string, extraFlags: string[], serverArgs: string[]): string[] {
  return [...testServerJvmFlags, ...extraFlags, '-cp', classpath, mainClass, ...serverArgs];
}

async function writeLauncher(java: string, classpath: string): Promise<void> {
  // Same argument list as the training run; only these two shell expressions stay unquoted.
  const cdsFlag = '"${cds[@]}"';
  const serverArgs = '"$@"';
  const args = javaArgs(classpath, [cdsFlag], [serverArgs])
    .map((arg) => (arg === cdsFlag || arg === serverArgs ? arg : shellQuote(arg)))
    .join(' ');
  const script = `#!/usr/bin/env bash
# Temporal time-skipping test server ${testServerVersion}; generated by src/devstack/tools/test-server.ts.
# Usage: temporal-test-server <port> [--enable-time-skipping]
# Delete ${installDir} to rebuild. TEMPORAL_TEST_SERVER_CDS=off starts without the CDS archive.
archive=${shellQuote(archivePath)}
cds=()
# A missing archive file would make the JVM drop class-data sharing altogether, the JDK's own base archive too.
if [[ -f "$archive" && "\${TEMPORAL_TEST_SERVER_CDS:-on}" != off ]]; then
  cds=("-XX:SharedArchiveFile=$archive")
fi
# exec: the SDK stops the server by killing this PID (SIGKILL), so java has to replace the shell.
exec ${shellQuote(java)} ${args}
`;
  await fs.writeFile(launcherPath, script, { mode: 0o755 });
  await fs.chmod(launcherPath, 0o755); // writeFile's mode is filtered by the umask
}

/**
 * Runs the server once with -XX:ArchiveClassesAtExit, drives a few requests through it so the gRPC and
 * protobuf classes get loaded too, then stops it with SIGTERM: the archive is only written on a normal JVM
 * exit, which SIGTERM gives (shutdown hooks run), SIGKILL does not.
 */
async function recordArchive(java: string, classpath: string, log: (line: string) => void): Promise<void> {
  const port = await freePort();
  const child = spawn(java, javaArgs(classpath, [`-XX:ArchiveClassesAtExit=${archivePath}`], [String(port)]), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = captureTail(child);
  try {
    await waitForPort(port, 60_000, child);
    // Best effort: without the requests the archive still covers start-up, which is what the SDK waits for.
    await warmUp(port).catch((error: Error) =>
      log(`  training requests failed (${error.message}); archive covers start-up only`),
    );
    await stopGracefully(child, 120_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`Training run of the test server failed: ${(error as Error).message}\n${output()}`);
  }
  const size = (await fs.stat(archivePath).catch(() => undefined))?.size ?? 0;
  if (size === 0) throw new Error(`The JVM exited without writing ${archivePath}\n${output()}`);
}

/** A few calls a test run makes (connect, start, describe, time skipping) so their classes land in the archive. */
async function warmUp(port: number): Promise<void> {
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  try {
    const client = new Client({ connection });
    const handle = await client.workflow.start('cdsWarmUp', { taskQueue: 'cds-warm-up', workflowId: 'cds-warm-up' });
    await handle.describe();
    await handle.fetchHistory();
    await connection.testService?.getCurrentTime({});
    await handle.terminate('CDS training run');
  } finally {
    await connection.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Checks

async function findJava(): Promise<{ java: string; javaVersion: string }> {
  const java = await resolveJava();
  const { stderr } = await run(java, ['-version']);
  const major = Number(/version "(\d+)/.exec(stderr)?.[1] ?? 0);
  if (major < 17) throw new Error(`${installHint} (found Java ${major || 'of unknown version'} at ${java})`);
  // The full version line includes the build: a JDK update invalidates the CDS archive, so it forces a rebuild.
  return { java, javaVersion: stderr.split('\n').slice(0, 2).join(' ').trim() };
}

/** $JAVA_HOME/bin/java or the first java on PATH, with links resolved so a JDK switch is noticed. */
async function resolveJava(): Promise<string> {
  const candidates = [
    ...(process.env.JAVA_HOME ? [path.join(process.env.JAVA_HOME, 'bin', 'java')] : []),
    ...(process.env.PATH ?? '')
      .split(path.delimiter)
      .filter(Boolean)
      .map((dir) => path.join(dir, 'java')),
  ];
  for (const candidate of candidates) {
    if (await isExecutable(candidate)) return fs.realpath(candidate);
  }
  throw new Error(`${installHint} (no java on PATH)`);
}

async function requireProgram(program: string, args: string[]): Promise<void> {
  try {
    await run(program, args);
  } catch (error) {
    throw new Error(`${installHint} (${program} failed to run: ${(error as Error).message.split('\n')[0]})`);
  }
}

async function isCurrent(expected: Omit<Stamp, 'jars'>): Promise<boolean> {
  const stamp = await readStamp();
  if (!stamp) return false;
  const { jars, ...rest } = stamp;
  if (JSON.stringify(rest) !== JSON.stringify(expected)) return false;
  const files = [launcherPath, archivePath, ...jars.map((jar) => path.join(libDir, jar))];
  const present = await Promise.all(files.map((file) => exists(file)));
  return present.every(Boolean);
}

async function readStamp(): Promise<Stamp | undefined> {
  try {
    return JSON.parse(await fs.readFile(stampPath, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** Serialises builds across processes (e.g. parallel test workers); a lock older than 10 minutes is stale. */
async function withInstallLock<T>(log: (line: string) => void, work: () => Promise<T>): Promise<T> {
  await fs.mkdir(toolsDir, { recursive: true });
  let told = false;
  for (;;) {
    try {
      await fs.mkdir(lockPath);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - ((await fs.stat(lockPath).catch(() => undefined))?.mtimeMs ?? 0);
      if (age > 10 * 60_000) {
        await fs.rm(lockPath, { recursive: true, force: true });
      } else {
        if (!told) log(`Waiting for another process to finish building the test server (${lockPath})`);
        told = true;
        await delay(500);
      }
    }
  }
  try {
    return await work();
  } finally {
    await fs.rm(lockPath, { recursive: true, force: true });
  }
}

/** Resolves once `port` accepts TCP on 127.0.0.1; rejects if `child` exits first or on timeout. */
export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  await waitFor(
    `port ${port} to accept connections`,
    async () => {
      if (child && child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
      if (child && child.signalCode !== null) throw new Error(`server was killed by ${child.signalCode}`);
      return portOpen(port);
    },
    timeoutMs,
    25,
  );
}

async function stopGracefully(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) throw new Error('server exited before it was stopped');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not exit within ${timeoutMs} ms of SIGTERM`)),
      timeoutMs,
    );
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Keeps the last lines of a child's output for error messages (the CDS dump is chatty). */
function captureTail(child: ChildProcess, maxLines = 30): () => string {
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - maxLines));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return () => lines.join('\n');
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

async function isExecutable(file: string): Promise<boolean> {
  return fs.access(file, fsConstants.X_OK).then(
    () => true,
    () => false,
  );
}
