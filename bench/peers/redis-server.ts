/**
 * Redis for the BullMQ peer: Debian's `redis-server`, started by the benchmark on a free port of
 * 127.0.0.1 with its own folder and durable like a production queue (AOF, fsync every second, no
 * RDB snapshots). The benchmark installs nothing: a missing redis-server is an error saying how.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ManagedProcess, startProcess } from '../../src/infra/processes';
import { freePort, portOpen, waitFor } from '../../src/infra/wait';

export interface RedisServer {
  port: number;
  process: ManagedProcess;
  /** `redis-server --version`'s version, e.g. 7.0.15. */
  version: string;
}

export function redisServerVersion(): string {
  let text: string;
  try {
    text = execFileSync('redis-server', ['--version'], { encoding: 'utf8' });
  } catch {
    throw new Error(
      'redis-server is not installed (or not on PATH), and the BullMQ peer of this benchmark needs it. ' +
        'Install it and run again: `apt-get install -y redis-server` on Debian/Ubuntu (as root; `apt-get update` first ' +
        'if the package is not found). The benchmark starts its own server on a free port; no system service is used.',
    );
  }
  return /v=(\S+)/.exec(text)?.[1] ?? text.trim();
}

export async function startRedis(dir: string): Promise<RedisServer> {
  const version = redisServerVersion();
  const port = await freePort();
  const process = startProcess(
    'redis-server',
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
    ],
    { output: path.join(dir, 'redis.log') },
  );
  await waitFor(
    `redis-server on 127.0.0.1:${port}`,
    async () => {
      if (!process.running) throw new Error(`redis-server exited at start (see ${path.join(dir, 'redis.log')})`);
      return portOpen(port);
    },
    30_000,
  );
  return { port, process, version };
}
