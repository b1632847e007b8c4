/**
 * fast-check arbitraries of HTTP requests against the API, at the HTTP level (raw bytes), so they
 * hold for any server behind the port: methods, request targets (percent-encoding, `..`, NUL,
 * unicode, absolute form), headers (auth present, absent or garbage; content types; lying
 * Content-Length) and bodies (random JSON with `__proto__`, huge numbers, deep nesting, wrong
 * types for every route of the OpenAPI document, paths inside and outside the input roots).
 */
import fc from 'fast-check';
import type { RawRequest } from './raw-http';

export interface FuzzTarget {
  token: string;
  /** The OpenAPI document's `paths` (templates and methods), as the server serves it. */
  paths: Record<string, Record<string, unknown>>;
  /** Names that mean something to the server, by path parameter: `pipeline`, `topic`. */
  names: Record<string, string[]>;
  /** Paths a body may name: files, folders, an items file, a symlink loop, all under the roots. */
  localPaths: string[];
}

/**
 * Run names the fuzz may start runs under all begin with `started-`. No worker serves the fuzz's
 * queues, so asking for such a run's progress could only end in a (right, but slow) 503
 * TemporalTimeout; the names GET asks for never name a started run.
 */
const startedRun = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).map((s) => `started-${s}`);
const namesOfStartedRuns = /^(started|event|api)-/;

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A JSON object's text with an extra own key, e.g. `__proto__` (JSON.stringify cannot write one). */
function withKey(objectText: string, key: string, valueText: string): string {
  const rest = objectText.slice(1).trim();
  return `{${JSON.stringify(key)}:${valueText}${rest === '}' ? '}' : `,${rest}`}`;
}

const hostileKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

export function requestArbitraries(target: FuzzTarget) {
  const segment = fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...Object.values(target.names).flat()) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          ...hostileKeys,
          '..',
          '.',
          '%2e%2e',
          '%00',
          'a%00b',
          '%2F',
          '%',
          '%zz',
          '%C0%AE',
          '%F0%9F%92%A9',
          '%ED%A0%80',
          '~',
          '*',
          'x'.repeat(300),
          'a%20b',
          'runs',
        ),
      },
      { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeURIComponent) },
      { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{0,16}$/) },
      {
        weight: 1,
        arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 8 }).map((s) => s.replace(/[\s?#]/g, '')),
      },
    )
    .filter((s) => !namesOfStartedRuns.test(decoded(s)));

  // A route's template with its parameters filled: mostly names the server knows for them.
  const parameter = (name: string) =>
    target.names[name]
      ? fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...target.names[name]) },
          { weight: 1, arbitrary: fc.constantFrom(...hostileKeys) },
          { weight: 1, arbitrary: segment },
        )
      : segment;
  const routes = Object.entries(target.paths).flatMap(([template, methods]) =>
    Object.keys(methods).map((m) => ({ template, method: m.toUpperCase() })),
  );
  const routed = fc.constantFrom(...routes).chain(({ template, method }) => {
    const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    return fc.tuple(fc.constant(method), fc.tuple(...names.map(parameter))).map(([m, values]) => {
      let i = 0;
      return { method: m, template, path: template.replace(/\{\w+\}/g, () => values[i++]) };
    });
  });
  const templated = routed.map((r) => r.path);
  const randomPath = fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join('/')}`);
  const path = fc.oneof(
    { weight: 4, arbitrary: templated },
    { weight: 2, arbitrary: randomPath },
    { weight: 1, arbitrary: fc.constantFrom('/', '//', '/./pipelines', '/pipelines/', '/PIPELINES', '/openapi.json/') },
  );
  const query = fc.constantFrom('', '', '', '?', '?a=1', '?x=%00', '?token=x&y', `?${'q'.repeat(200)}`, '#frag');
  const requestTarget = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(path, query).map(([p, q]) => p + q) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('http://127.0.0.1', 'http://[::1]:1', 'https://evil.example', 'http://a@b'), path)
        .map(([origin, p]) => origin + p),
    },
    { weight: 1, arbitrary: fc.constantFrom('*', 'http://[', 'http://[/x', 'http://a:99999/', 'x:/', 'a') },
  );

  const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 40 });
  const authorization = fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${target.token}`) },
    { weight: 2, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'Bearer',
        'Bearer ',
        `bearer ${target.token}`,
        `Bearer  ${target.token}  `,
        `Bearer ${target.token} extra`,
        `Bearer ${target.token}x`,
        `Bearer ${target.token.slice(0, -1)}`,
        'Basic dXNlcjpwYXNz',
        `Bearer ${'A'.repeat(4000)}`,
        'Bearer \u00e9\u00e9',
      ),
    },
    { weight: 1, arbitrary: printable },
  );
  const contentType = fc.constantFrom(
    undefined,
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json; charset=utf-16',
    ';;;',
  );
  const headerName = fc
    .stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/)
    .filter((n) => !/^(content-length|transfer-encoding|authorization|host|connection|expect|upgrade)$/i.test(n));
  const extraHeaders = fc.array(fc.tuple(headerName, printable), { maxLength: 3 });

  // Bodies: wrong types for every field of every route, hostile values, paths in and out of the roots.
  const anyJson = fc.jsonValue({ maxDepth: 3 });
  const pathValue = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...target.localPaths) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '/etc/passwd',
        '../../../etc/passwd',
        `${target.localPaths[0]}/../../outside`,
        `${target.localPaths[0]}\u0000.txt`,
        '\u0000',
        'a\u0000b',
        '',
        '.',
        '~',
        'pipelines/items/signup-users.jsonl',
        'x'.repeat(5000),
        `${target.localPaths[0]}/${'y'.repeat(300)}`,
        '/proc/self/environ',
        'C:\\Windows\\win.ini',
        'file:///etc/passwd',
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    { weight: 1, arbitrary: anyJson },
  );
  const id = fc.oneof(
    { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,10}$/) },
    { weight: 1, arbitrary: fc.constantFrom('', 'a b', 'x'.repeat(129), '__proto__', '../x', '\u0000', '-x') },
    { weight: 1, arbitrary: anyJson },
  );
  const hostileValue = fc.constantFrom<unknown>(
    { toString: 1 },
    { valueOf: 'x' },
    { path: { toString: 1 } },
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER + 2,
    -0,
    '\u0000',
    '\ud800',
    'x'.repeat(10_000),
  );
  const data = fc.oneof(
    { weight: 3, arbitrary: fc.record({ path: pathValue }, { requiredKeys: [] }) },
    {
      weight: 2,
      arbitrary: fc.record(
        {
          userId: id,
          email: fc.oneof(fc.constant('ada@example.test'), anyJson),
          optIn: fc.oneof(fc.boolean(), anyJson),
          preference: fc.oneof(fc.constantFrom('email', 'sms', 'none'), anyJson),
          bytes: fc.oneof(fc.integer(), hostileValue),
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('tag', 'path', 'fail', ...hostileKeys), hostileValue) },
    { weight: 1, arbitrary: anyJson },
  );
  const item = fc.oneof(
    { weight: 4, arbitrary: fc.record({ id, data, origin: fc.oneof(printable, anyJson) }, { requiredKeys: ['id'] }) },
    { weight: 1, arbitrary: anyJson },
  );
  const startRun = fc.record(
    {
      run: fc.oneof({ weight: 3, arbitrary: startedRun }, { weight: 1, arbitrary: id }),
      items: fc.oneof({ weight: 4, arbitrary: fc.array(item, { maxLength: 4 }) }, { weight: 1, arbitrary: anyJson }),
      source: fc.oneof({ weight: 4, arbitrary: fc.record({ path: pathValue }) }, { weight: 1, arbitrary: anyJson }),
    },
    { requiredKeys: [] },
  );
  const event = fc.record({ id, data }, { requiredKeys: [] });
  // Bodies the schemas accept, so the fuzz reaches the handlers and Temporal behind them.
  const validId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,10}$/);
  const validData = fc.oneof(
    fc.record({ path: fc.constantFrom(...target.localPaths) }),
    data,
    fc.record({ bytes: fc.integer(), tag: printable }),
  );
  const validItems = fc.uniqueArray(fc.record({ id: validId, data: validData }), {
    minLength: 1,
    maxLength: 3,
    selector: (i) => i.id,
  });
  const validStartRun = fc.oneof(
    fc.record({ run: startedRun, items: validItems }, { requiredKeys: ['items'] }),
    fc.record({ run: startedRun, source: fc.record({ path: pathValue }) }, { requiredKeys: ['source'] }),
  );
  const validEvent = fc.record({ id: validId, data: validData }, { requiredKeys: ['id'] });
  const objectBody = fc
    .oneof(startRun, event, validStartRun, validStartRun, validEvent, validEvent)
    .map((body) => JSON.stringify(body));
  const withHostileKey = fc
    .tuple(objectBody, fc.constantFrom(...hostileKeys), anyJson)
    .map(([text, key, value]) => (text.startsWith('{') ? withKey(text, key, JSON.stringify(value)) : text));
  const nested = fc
    .tuple(fc.constantFrom(63, 65, 1000, 100_000), fc.boolean())
    .map(([depth, arrays]) =>
      arrays
        ? `{"items":[{"id":"deep","data":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}]}`
        : `{"id":"deep","data":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`,
    );
  const bodyText = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 5, arbitrary: objectBody },
    { weight: 2, arbitrary: withHostileKey },
    { weight: 2, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: nested },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '1e400',
        '-0',
        '"\\u0000"',
        'nul',
        '{',
        '\ufeff{"id":"bom"}',
        '{"id":"a","id":"b"}',
        '{"items":[{"id":"u1"}],"items":{"x":1}}',
        `{"id":"${'x'.repeat(1024 * 1024)}"}`,
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  );

  const method = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('GET', 'POST') },
    { weight: 1, arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS') },
  );

  /** Well-formed requests (whatever their content): each must get a whole answer at once. */
  // A route's requests get mostly bodies made for it; the others mostly none.
  const bodyFor = (template?: string) => {
    if (template?.endsWith('/runs'))
      return fc.oneof(
        { weight: 4, arbitrary: validStartRun.map((b) => JSON.stringify(b)) },
        { weight: 3, arbitrary: bodyText },
      );
    if (template?.endsWith('/events'))
      return fc.oneof(
        { weight: 4, arbitrary: validEvent.map((b) => JSON.stringify(b)) },
        { weight: 3, arbitrary: bodyText },
      );
    return fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: bodyText });
  };
  const methodTargetBody = fc.oneof(
    { weight: 3, arbitrary: routed.chain((r) => bodyFor(r.template).map((body) => ({ ...r, target: r.path, body }))) },
    { weight: 2, arbitrary: fc.record({ method, target: requestTarget, body: bodyFor() }) },
  );
  const request: fc.Arbitrary<RawRequest> = fc
    .record({
      methodTargetBody,
      auth: authorization,
      contentType,
      extra: extraHeaders,
      // A Content-Length shorter than the body (the rest is read as a next request).
      short: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    })
    .map(({ methodTargetBody: { method, target, body }, auth, contentType, extra, short }) => {
      const headers: [string, string][] = [];
      if (auth !== undefined) headers.push(['Authorization', auth]);
      if (contentType !== undefined && body !== undefined) headers.push(['Content-Type', contentType]);
      headers.push(...extra);
      const length = body === undefined ? undefined : Buffer.byteLength(body);
      return {
        method,
        target,
        headers,
        body,
        contentLength: short && length ? Math.floor(length / 2) : undefined,
      };
    });

  /** Bytes no HTTP client sends: each must still get a JSON 4xx (or an answer) and a closed connection. */
  const malformed = fc.oneof(
    fc.constantFrom(
      'GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET http://[ HTTP/1.1\r\n\r\n',
      'FOO / HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
      'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET / HTTP/1.1\r\nno colon here\r\n\r\n',
      'GET / HTTP/1.1\r\nHost : x\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n',
      'POST /topics/signups/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{"a":1}',
      'POST /topics/signups/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST /topics/signups/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      'POST /topics/signups/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
      'POST /topics/signups/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'POST /topics/signups/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n',
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      'GET / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003\r\n\r\n',
    ),
    fc
      .tuple(fc.string({ unit: 'binary', maxLength: 80 }), fc.constantFrom('\r\n\r\n', '\n\n'))
      // Blank lines before a request are skipped by HTTP servers (it then waits for one): no blanks alone.
      .map(([junk, end]) => (junk.trim() === '' ? `x${junk}` : junk) + end),
    fc
      .tuple(method, fc.string({ unit: 'binary', maxLength: 30 }))
      .map(([m, t]) => `${m} ${t} HTTP/1.1\r\nHost: x\r\n\r\n`),
  );

  /** Requests whose body never arrives (as announced, or at all): answered once the request timeout passes. */
  const unfinished = fc
    .record({
      target: fc.constantFrom('/topics/signups/events', '/pipelines/signup-notify/runs', '/pipelines', '/x'),
      auth: fc.boolean(),
      sent: fc.constantFrom('', '{', '{"id":"a"'),
      announced: fc.constantFrom(100, 1000, 1024 * 1024),
    })
    .map(({ target: t, auth, sent, announced }) => ({
      method: 'POST',
      target: t,
      headers: auth ? ([['Authorization', `Bearer ${target.token}`]] as [string, string][]) : [],
      body: sent,
      contentLength: announced,
    }));

  return { request, malformed, unfinished };
}
