/**
 * What one client can hold of the API: connections beyond the limit are closed, headers or bodies
 * that trickle in are answered 408 once their time is up, and a body refused before it was read
 * is dropped only up to a bound before the connection is closed (not read for minutes).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { defaultServerLimits, type ServerLimits } from '../src/api/limits';
import { sleep } from '../src/infra/wait';
import { TestApi } from './support/api';
import { rawExchange } from './support/raw-http';
import { sharedDevServer } from './support/servers';

/** A connection to the API that records what came back and when it was closed. */
function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  const state = { data: '', closed: false };
  socket.on('data', (chunk: Buffer) => (state.data += chunk.toString('utf8')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) =>
    socket.on('close', () => {
      state.closed = true;
      resolve();
    }),
  );
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, state, closed, connected };
}

/** Resolves true once `p` settles, false when `ms` passes first. */
const within = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), sleep(ms).then(() => false)]);

function portOf(api: TestApi): number {
  return Number(new URL(api.url).port);
}

describe('HTTP API limits', function () {
  let env: TestWorkflowEnvironment;
  const apis: TestApi[] = [];
  const startApi = async (limits: Partial<ServerLimits>) => {
    const api = await new TestApi(env, 'limits', { limits: { ...defaultServerLimits, ...limits } }).start();
    apis.push(api);
    return api;
  };

  before(async () => {
    env = await sharedDevServer();
  });
  after(async () => {
    for (const api of apis) {
      await api.stop();
      api.cleanUp();
    }
  });

  it('closes connections beyond maxConnections at once, and serves again when one is freed', async () => {
    const api = await startApi({ maxConnections: 3 });
    const held = [connect(portOf(api)), connect(portOf(api)), connect(portOf(api))];
    await Promise.all(held.map((c) => c.connected));
    await sleep(200); // the server has accepted them
    const extra = connect(portOf(api));
    assert.ok(await within(extra.closed, 5000), 'the connection over the limit is closed');
    assert.equal(extra.state.data, '');
    assert.ok(
      held.every((c) => !c.state.closed),
      'the connections within the limit stay open',
    );

    held[0].socket.destroy();
    await held[0].closed;
    await sleep(200);
    const answer = await rawExchange(portOf(api), 'GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(answer.status, 200);
    for (const c of held) c.socket.destroy();
  });

  it('answers 408 and closes a connection whose headers trickle in (slowloris)', async () => {
    const api = await startApi({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
    const slow = connect(portOf(api));
    await slow.connected;
    slow.socket.write('GET /pipelines HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => slow.socket.write('X-A: b\r\n'), 200);
    try {
      assert.ok(await within(slow.closed, 10_000), 'the server closed the connection');
    } finally {
      clearInterval(trickle);
    }
    assert.match(slow.state.data, /^HTTP\/1\.1 408 /);
    assert.equal(JSON.parse(slow.state.data.slice(slow.state.data.indexOf('\r\n\r\n'))).error, 'RequestTimeout');
  });

  it('answers 408 and closes a connection whose announced body never comes', async () => {
    const api = await startApi({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
    const slow = connect(portOf(api));
    await slow.connected;
    slow.socket.write(
      `POST /topics/signups/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${api.token}\r\nContent-Length: 100\r\n\r\n{"id":`,
    );
    assert.ok(await within(slow.closed, 10_000), 'the server closed the connection');
    assert.match(slow.state.data, /^HTTP\/1\.1 408 /);
  });

  for (const [name, auth] of [
    ['without a token (401)', false],
    ['announced too large (413)', true],
  ] as const) {
    it(`drops a refused body ${name} only up to a bound, then closes the connection`, async () => {
      const limits = { drainBytes: 512 * 1024, drainMs: 1000 };
      const api = await startApi(limits);
      const upload = connect(portOf(api));
      await upload.connected;
      const headers = [
        `POST /pipelines/${api.pipelines.greet}/runs HTTP/1.1`,
        'Host: x',
        ...(auth ? [`Authorization: Bearer ${api.token}`] : []),
        'Content-Type: application/json',
        `Content-Length: ${1024 * 1024 * 1024}`,
      ];
      upload.socket.write(`${headers.join('\r\n')}\r\n\r\n`);
      // A client that keeps sending its 1 GB body: the server must not read it all.
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = setInterval(() => {
        if (!upload.state.closed && upload.socket.writable) {
          upload.socket.write(chunk);
          sent += chunk.length;
        }
      }, 10);
      try {
        assert.ok(await within(upload.closed, 20_000), `the server closed the connection (${sent} bytes sent)`);
      } finally {
        clearInterval(pump);
      }
      assert.match(upload.state.data, auth ? /^HTTP\/1\.1 413 / : /^HTTP\/1\.1 401 /);
      assert.match(upload.state.data, /\r\nConnection: close\r\n/i);
      const body = JSON.parse(upload.state.data.slice(upload.state.data.indexOf('\r\n\r\n')));
      assert.equal(body.error, auth ? 'PayloadTooLarge' : 'Unauthorized');
      assert.ok(sent < 1024 * 1024 * 1024, 'closed long before the whole body was sent');
    });
  }

  it('still reads a small refused body to its end and answers in whole', async () => {
    const api = await startApi({});
    const body = JSON.stringify({ items: [{ id: 'a' }] });
    const answer = await rawExchange(
      portOf(api),
      `POST /pipelines/${api.pipelines.greet}/runs HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assert.equal(answer.ending, 'answered');
    assert.equal(answer.status, 401);
  });
});
