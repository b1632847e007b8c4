/**
 * Property-based fuzzing of the HTTP API, run as its own process (src/cli/api.ts) and spoken to
 * with raw sockets: random methods, request targets, headers and bodies (test/support/http-fuzz.ts).
 * Properties: every request gets a whole answer, never a 5xx (a 503 only while Temporal is down,
 * never a 500), every error answer is JSON {error, message}, and the process stays up.
 * The seed is in the suite's title; FUZZ_SEED=<seed> replays a failure.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { ApiProcess } from './support/api-process';
import { type FuzzTarget, requestArbitraries } from './support/http-fuzz';
import { type RawAnswer, rawExchange, rawRequest, type RawRequest, requestBytes } from './support/raw-http';
import { sharedDevServer } from './support/servers';
import { TcpProxy } from './support/tcp-proxy';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const token = 'fuzz-token-7f3a9c';

/** A request, readably, for failure messages. */
const shown = (request: RawRequest | string) =>
  JSON.stringify(typeof request === 'string' ? request : requestBytes(request).toString('latin1')).slice(0, 600);

/** The properties every answer has: whole, not a 5xx (503 only if allowed), errors as JSON {error, message}. */
function checkAnswer(answer: RawAnswer, request: RawRequest | string, allow503 = false): void {
  const what = `${shown(request)} was answered ${JSON.stringify(answer.raw.slice(0, 600))}`;
  assert.equal(answer.ending, 'answered', `no whole answer (${answer.ending}): ${what}`);
  assert.ok(answer.status !== undefined, what);
  if (allow503 && answer.status === 503) assert.notEqual(answer.status, 500, what);
  else assert.ok(answer.status < 500, `a ${answer.status}: ${what}`);
  const head = typeof request === 'string' ? request.startsWith('HEAD ') : request.method === 'HEAD';
  if (answer.status >= 400 && !head) {
    assert.match(answer.headers['content-type'] ?? '', /^application\/json/, what);
    const body = JSON.parse(answer.body) as { error: unknown; message: unknown };
    assert.equal(typeof body.error, 'string', what);
    assert.equal(typeof body.message, 'string', what);
  }
}

describe(`HTTP API fuzzing (seed ${seed}; replay with FUZZ_SEED=${seed})`, function () {
  let proxy: TcpProxy;
  let api: ApiProcess;
  let arbitraries: ReturnType<typeof requestArbitraries>;

  before(async function () {
    const env = await sharedDevServer();
    // The API reaches Temporal through a forwarder the last phase cuts: Temporal "goes down".
    proxy = await new TcpProxy(env.address).start();
    api = new ApiProcess(proxy.address, { BATCH_API_TOKEN: token, BATCH_API_REQUEST_TIMEOUT_MS: '2000' });
    const folder = path.join(api.inputs, 'folder');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'a.txt'), 'hello\n');
    fs.writeFileSync(path.join(api.inputs, 'clip.mp4'), 'not really a video\n');
    fs.writeFileSync(path.join(api.inputs, 'items.jsonl'), '{"id": "i1", "data": {"bytes": 3}}\nnot json\n');
    fs.writeFileSync(path.join(api.inputs, 'good.jsonl'), '{"id": "i1", "data": {"bytes": 3}}\n');
    fs.symlinkSync(path.join(api.inputs, 'loop'), path.join(api.inputs, 'loop'));
    await api.start();
    console.log(`    fuzz seed ${seed} (replay: FUZZ_SEED=${seed} npm run test:file -- test/api-fuzz.test.ts)`);

    const get = async (p: string) => JSON.parse((await rawRequest(api.port, authorized('GET', p))).body);
    const openapi = (await get('/openapi.json')) as { paths: FuzzTarget['paths'] };
    const pipelines = (await get('/pipelines')).pipelines.map((p: { name: string }) => p.name) as string[];
    const topics = (await get('/topics')).topics.map((t: { topic: string }) => t.topic) as string[];
    const localPaths = [api.inputs, folder, 'a.txt', 'clip.mp4', 'items.jsonl', 'good.jsonl', 'loop', 'missing'].map(
      (p) => path.resolve(api.inputs, p),
    );
    arbitraries = requestArbitraries({
      token,
      paths: openapi.paths,
      names: { pipeline: pipelines, topic: topics },
      localPaths,
    });
  });

  afterEach(function () {
    assert.ok(api.alive, `the API process died; its log:\n${api.log()}`);
  });

  after(async () => {
    await api?.stop();
    await proxy?.close();
    api?.cleanUp();
  });

  const authorized = (method: string, target: string, body?: unknown): RawRequest => ({
    method,
    target,
    headers: [
      ['Authorization', `Bearer ${token}`],
      ['Content-Type', 'application/json'],
    ],
    body: body === undefined ? undefined : JSON.stringify(body),
  });

  it('answers 300 random requests in whole, never with a 5xx, every error as JSON {error, message}', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(arbitraries.request, async (request) => {
        const answer = await rawRequest(api.port, request, 15_000);
        statuses.set(answer.status ?? 0, (statuses.get(answer.status ?? 0) ?? 0) + 1);
        checkAnswer(answer, request);
        assert.ok(api.alive, `the API process died after ${shown(request)}:\n${api.log()}`);
      }),
      { numRuns: 300, seed },
    );
    console.log(`    statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  });

  it('answers 100 malformed requests (bad request lines, headers, framing) with a JSON 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraries.malformed, async (bytes) => {
        checkAnswer(await rawExchange(api.port, Buffer.from(bytes, 'latin1'), { timeoutMs: 15_000 }), bytes);
        assert.ok(api.alive, `the API process died after ${shown(bytes)}:\n${api.log()}`);
      }),
      { numRuns: 100, seed },
    );
  });

  it('answers requests whose announced body never comes once the request timeout passes', async () => {
    // Each waits for the API's request timeout (2 s here), so they go at once.
    await fc.assert(
      fc.asyncProperty(fc.array(arbitraries.unfinished, { minLength: 12, maxLength: 12 }), async (requests) => {
        const answers = await Promise.all(requests.map((r) => rawRequest(api.port, r, 15_000)));
        answers.forEach((answer, i) => {
          checkAnswer(answer, requests[i]);
          assert.ok([401, 404, 405, 408, 413].includes(answer.status!), `${shown(requests[i])}: ${answer.raw}`);
        });
      }),
      { numRuns: 2, seed },
    );
  });

  it('while Temporal is down: 503 for routes that need it, never a 500; the others answer as before', async () => {
    await proxy.close();
    const run = '/pipelines/signup-notify/runs/started-down';
    const needTemporal: RawRequest[] = [
      authorized('POST', '/pipelines/signup-notify/runs', { run: 'started-down', items: [{ id: 'u1', data: {} }] }),
      authorized('POST', '/topics/uploads/events', { id: 'down-1', data: { bytes: 1 } }),
      authorized('GET', run),
      authorized('GET', `${run}/dead-letters`),
      authorized('POST', `${run}/dead-letters/redrive`),
    ];
    const served = ['/openapi.json', '/pipelines', '/topics'].map((p) => authorized('GET', p));
    await fc.assert(
      fc.asyncProperty(fc.array(arbitraries.request, { minLength: 20, maxLength: 20 }), async (random) => {
        const all = [...needTemporal, ...served, ...random];
        const answers = await Promise.all(all.map((r) => rawRequest(api.port, r, 30_000)));
        answers.forEach((answer, i) => checkAnswer(answer, all[i], true));
        needTemporal.forEach((r, i) => assert.equal(answers[i].status, 503, `${shown(r)}: ${answers[i].raw}`));
        served.forEach((r, i) => assert.equal(answers[needTemporal.length + i].status, 200, shown(r)));
        const unavailable = JSON.parse(answers[0].body) as { error: string; message: string };
        assert.match(unavailable.error, /^Temporal(Unavailable|Timeout)$/);
      }),
      { numRuns: 1, seed },
    );
  });
});
