/**
 * Measures how fast the Java time-skipping test server starts, with and without its CDS archive, and checks
 * that the SDK can launch it. Usage: node --require tsx/cjs scripts/measure-test-server.ts [runs=5]
 */
import { spawn } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureTestServer, waitForPort } from '../src/devstack/tools/test-server';
import { freePort } from '../src/infra/wait';

interface StartTimes {
  /** Launch until the port accepts TCP. */
  tcpMs: number;
  /** Launch until a GetSystemInfo call succeeds: what the SDK waits for (it gives up after ~5 s). */
  rpcMs: number;
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const ensureStart = Date.now();
  const launcher = await ensureTestServer((line) => console.log(line));
  console.log(`ensureTestServer: ${Date.now() - ensureStart} ms -> ${launcher}\n`);

  await startOnce(launcher, true); // untimed: warms the page cache and this process's gRPC client
  for (const cds of [true, false]) {
    const samples: StartTimes[] = [];
    for (let i = 0; i < runs; i++) samples.push(await startOnce(launcher, cds));
    console.log(`${cds ? 'with CDS   ' : 'without CDS'}  tcp ${summary(samples.map((s) => s.tcpMs))}`);
    console.log(`             rpc ${summary(samples.map((s) => s.rpcMs))}`);
  }
  console.log();
  await checkSdkLaunch(launcher, 3);
}

/** Starts the launcher like the SDK does (`<path> <port>`), times it, then kills it like the SDK does. */
async function startOnce(launcher: string, cds: boolean): Promise<StartTimes> {
  const port = await freePort();
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  const child = spawn(launcher, [String(port)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, TEMPORAL_TEST_SERVER_CDS: cds ? 'on' : 'off' },
  });
  try {
    await waitForPort(port, 30_000, child);
    const tcpMs = elapsed();
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    const rpcMs = elapsed();
    await connection.close();
    return { tcpMs, rpcMs };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

/** Creates and tears down SDK environments on the launcher; checks time skipping and that no JVM is left behind. */
async function checkSdkLaunch(launcher: string, times: number): Promise<void> {
  const day = 24 * 60 * 60 * 1000;
  for (let i = 1; i <= times; i++) {
    const started = Date.now();
    const env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: launcher } },
    });
    const createMs = Date.now() - started;
    const before = await env.currentTimeMs();
    await env.sleep(day);
    const skipped = (await env.currentTimeMs()) - before;
    const port = Number(env.address.split(':').pop());
    await env.teardown();
    const leftOver = await waitForPort(port, 300).then(
      () => true,
      () => false,
    );
    if (skipped < day) throw new Error(`time skipping did not advance a day (advanced ${skipped} ms)`);
    if (leftOver) throw new Error(`the server on port ${port} still accepts connections after teardown`);
    console.log(`createTimeSkipping #${i}: created in ${createMs} ms, skipped 1 day, torn down, port ${port} closed`);
  }
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const ms = (v: number) => `${Math.round(v)}`.padStart(5);
  return `min ${ms(sorted[0])}  median ${ms(median)}  max ${ms(sorted[sorted.length - 1])} ms  (n=${values.length})`;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
