/**
 * The HTTP API on the dev server, as a client uses it: bad requests answered 4xx with a message
 * saying what to change (never a 5xx), a run started and followed to completion, a source folder
 * under the input roots, an event published twice starting one run per subscribed pipeline, and
 * dead letters listed and redriven.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { maxBodyBytes } from '../src/api/limits';
import { repoRoot } from '../src/infra/paths';
import { TestApi, type CallOptions } from './support/api';
import { withPipelineWorkers } from './support/pipeline-workers';
import { sharedDevServer } from './support/servers';

describe('HTTP API', function () {
  let env: TestWorkflowEnvironment;
  let api: TestApi;
  before(async () => {
    env = await sharedDevServer();
    api = await new TestApi(env, 'api').start();
  });
  after(async () => {
    await api.stop();
    api.cleanUp();
  });

  describe('refuses bad requests with a 4xx that says what to change', () => {
    const item = { id: 'u1', data: { optIn: true } };
    const cases: {
      name: string;
      method: string;
      path: () => string;
      options?: () => CallOptions;
      status: number;
      message: RegExp;
    }[] = [
      {
        name: 'no token',
        method: 'GET',
        path: () => '/pipelines',
        options: () => ({ token: null }),
        status: 401,
        message: /needs a bearer token: send "Authorization: Bearer <token>"/,
      },
      {
        name: 'wrong token',
        method: 'GET',
        path: () => '/pipelines',
        options: () => ({ token: 'guess' }),
        status: 401,
        message: /bearer token is wrong/,
      },
      {
        name: 'bad JSON',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ raw: '{"items": [' }),
        status: 400,
        message: /not valid JSON/,
      },
      {
        name: 'a body that is not an object',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: [item] }),
        status: 400,
        message: /\(body\): must be an object, not an array/,
      },
      {
        name: 'no body',
        method: 'POST',
        path: () => `/topics/signups/events`,
        status: 400,
        message: /needs a JSON body, e\.g\. \{"id":"signup-ada-1"/,
      },
      {
        name: 'unknown pipeline',
        method: 'POST',
        path: () => '/pipelines/api-gret/runs',
        options: () => ({ body: { items: [item] } }),
        status: 404,
        message: /No pipeline "api-gret"; did you mean "api-greet"\?/,
      },
      {
        name: 'unknown topic',
        method: 'POST',
        path: () => '/topics/signup/events',
        options: () => ({ body: { id: 'e1' } }),
        status: 404,
        message: /No topic "signup"; did you mean "signups"\?/,
      },
      {
        name: 'a path escaping the roots with ..',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { source: { path: `${api.inputs}/../outside/secret.txt` } } }),
        status: 400,
        message: /is outside the input roots\. Paths must lie under .*inputs/,
      },
      {
        name: 'a relative path climbing out of the project',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { source: { path: '../../../etc' } } }),
        status: 400,
        message: /^source\.path \.\.\/\.\.\/\.\.\/etc is outside the input roots/,
      },
      {
        name: "an item's file path outside the roots",
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { items: [item, { id: 'u2', data: { path: '/etc/passwd' } }] } }),
        status: 400,
        message: /^items\[1\]\.data\.path \/etc\/passwd is outside the input roots/,
      },
      {
        name: "an event's file path escaping through a symlink",
        method: 'POST',
        path: () => '/topics/signups/events',
        options: () => ({ body: { id: 'e1', data: { path: path.join(api.inputs, 'escape', 'secret.txt') } } }),
        status: 400,
        message: /^data\.path .*escape\/secret\.txt leads outside the input roots \(through a symlink\)/,
      },
      {
        name: 'a path escaping the roots through a symlink',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { source: { path: path.join(api.inputs, 'escape') } } }),
        status: 400,
        message: /leads outside the input roots \(through a symlink\)/,
      },
      {
        name: 'a path that does not exist',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { source: { path: path.join(api.inputs, 'missing') } } }),
        status: 400,
        message: /missing does not exist; check the path/,
      },
      {
        name: 'a body over the limit',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ raw: JSON.stringify({ items: [{ id: 'big', data: { blob: 'x'.repeat(maxBodyBytes) } }] }) }),
        status: 413,
        message: /larger than 1048576 bytes\. Send large batches as a source/,
      },
      {
        name: 'bad items',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { items: [{ id: 'a b', data: 1 }, { data: {} }] } }),
        status: 400,
        message:
          /items\[0\]\.id: "a b" is not allowed here; use 1-128 letters[^]*items\[0\]\.data: must be an object, not a number[^]*items\[1\]\.id: is missing/,
      },
      {
        name: 'an empty list of items',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { items: [] } }),
        status: 400,
        message: /items: needs at least 1 element/,
      },
      {
        name: 'an item ID twice',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { items: [item, item] } }),
        status: 400,
        message: /items\[1\]\.id: "u1" repeats items\[0\]\.id/,
      },
      {
        name: 'items and a source',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { items: [item], source: { path: api.inputs } } }),
        status: 400,
        message: /Send exactly one of "items"/,
      },
      {
        name: 'a source with both a path and a uri',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { source: { path: api.inputs, uri: 's3://media/photos/' } } }),
        status: 400,
        message: /Send exactly one of "source\.path" .* and "source\.uri"/,
      },
      {
        name: 'a source.uri that is neither a prefix nor an items object',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { source: { uri: 's3://media/photos/cat.png' } } }),
        status: 400,
        message:
          /^source\.uri: s3:\/\/media\/photos\/cat\.png is neither a prefix nor a \.jsonl or \.csv object: end a prefix with "\/"/,
      },
      {
        name: 'a source.uri that is not in S3',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { source: { uri: 'file:///etc/passwd' } } }),
        status: 400,
        message: /source\.uri/,
      },
      {
        name: 'a misspelt property',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { itemz: [item] } }),
        status: 400,
        message: /itemz: unknown property; did you mean "items"\? Allowed: run, items, source/,
      },
      {
        name: 'a bad run name',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { run: '../x', items: [item] } }),
        status: 400,
        message: /run: "\.\.\/x" is not allowed here/,
      },
      {
        name: 'an event without an id',
        method: 'POST',
        path: () => '/topics/signups/events',
        options: () => ({ body: { data: {} } }),
        status: 400,
        message: /id: is missing/,
      },
      {
        name: 'an unknown run',
        method: 'GET',
        path: () => `/pipelines/${api.pipelines.greet}/runs/nope`,
        status: 404,
        message: /No run "nope" of pipeline "api-greet"/,
      },
      {
        name: 'an unknown route',
        method: 'GET',
        path: () => '/runs',
        status: 404,
        message: /No route GET \/runs; GET \/openapi\.json lists every route/,
      },
      {
        name: 'a NUL byte in source.path',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { source: { path: 'batch\u0000.jsonl' } } }),
        status: 400,
        message:
          /^source\.path "batch\\u0000\.jsonl" contains a NUL character \(\\u0000\), which no file path can hold/,
      },
      {
        name: "a NUL byte in an item's data.path",
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { items: [{ id: 'u1', data: { path: `${api.inputs}/a\u0000b` } }] } }),
        status: 400,
        message: /^items\[0\]\.data\.path ".*\/inputs\/a\\u0000b" contains a NUL character/,
      },
      {
        name: 'a path going round a loop of symlinks',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { source: { path: path.join(api.inputs, 'loop') } } }),
        status: 400,
        message: /^source\.path .*\/loop goes round a loop of symlinks/,
      },
      {
        name: 'a property named __proto__',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ raw: '{"__proto__": {"x": 1}, "items": [{"id": "u1"}]}' }),
        status: 400,
        message: /__proto__: unknown property\. Allowed: run, items, source/,
      },
      {
        name: 'a body nested deeper than 64 levels',
        method: 'POST',
        path: () => '/topics/signups/events',
        options: () => ({ raw: `{"id": "deep", "data": {"x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}` }),
        status: 400,
        message: /nests arrays and objects more than 64 levels deep/,
      },
      {
        name: 'a topic named __proto__',
        method: 'POST',
        path: () => '/topics/__proto__/events',
        options: () => ({ body: { id: 'e1' } }),
        status: 404,
        message: /^No topic "__proto__"/,
      },
      {
        name: 'a folder as the video of a transcode event',
        method: 'POST',
        path: () => '/topics/videos/events',
        options: () => ({ body: { id: 'v1', data: { path: api.inputs } } }),
        status: 400,
        message: /The transcode flow needs data\.path to be a video file; .*inputs is not a file/,
      },
      {
        name: 'a misspelt property of an item, named by its place',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { items: [item, { id: 'u2', dta: {} }] } }),
        status: 400,
        message: /items\[1\]\.dta: unknown property; did you mean "data"\? Allowed: id, data, origin/,
      },
      {
        name: 'a run name that is a number (not coerced to a string)',
        method: 'POST',
        path: () => `/pipelines/${api.pipelines.greet}/runs`,
        options: () => ({ body: { run: 5, items: [item] } }),
        status: 400,
        message: /run: must be a string, not a number/,
      },
      {
        name: 'an empty path segment',
        method: 'GET',
        path: () => `/pipelines//runs/r1`,
        status: 400,
        message: /pipeline: must not be empty/,
      },
      {
        name: 'a path segment that is not valid percent-encoding',
        method: 'GET',
        path: () => `/pipelines/%zz/runs/r1`,
        status: 400,
        message: /is not valid percent-encoding; write a "%" itself as %25/,
      },
      {
        name: 'a path segment longer than any name',
        method: 'GET',
        path: () => `/pipelines/${'x'.repeat(300)}/runs/r1`,
        status: 414,
        message: /longer than 256 characters/,
      },
      {
        name: 'a wrong method',
        method: 'DELETE',
        path: () => '/pipelines',
        status: 405,
        message: /DELETE \/pipelines is not served; use GET/,
      },
    ];

    before(() => {
      fs.writeFileSync(path.join(api.outside, 'secret.txt'), 'not for the API\n');
      fs.symlinkSync(api.outside, path.join(api.inputs, 'escape'));
      fs.symlinkSync(path.join(api.inputs, 'loop'), path.join(api.inputs, 'loop'));
    });

    it('names a path with a NUL byte as it was sent, not as the server resolved it', async () => {
      const answer = await api.call('POST', `/pipelines/${api.pipelines.greet}/runs`, {
        body: { source: { path: 'relative\u0000' } },
      });
      assert.equal(answer.status, 400);
      assert.ok(!answer.body.message.includes(repoRoot), answer.body.message);
    });

    for (const c of cases) {
      it(c.name, async () => {
        const answer = await api.call(c.method, c.path(), c.options?.());
        assert.equal(answer.status, c.status, JSON.stringify(answer.body));
        assert.match(answer.body.message, c.message);
        assert.equal(typeof answer.body.error, 'string');
      });
    }
  });

  it('lists the pipelines with their descriptions', async () => {
    const { status, body } = await api.call('GET', '/pipelines');
    assert.equal(status, 200);
    assert.deepEqual(
      body.pipelines.map((p: { name: string; description: string }) => [p.name, p.description]),
      [
        ['api-audit', 'Records every item'],
        ['api-flaky', 'Delivers items; data.fail = "invalid" makes one a dead letter'],
        ['api-greet', 'Greets every item and sums its bytes'],
      ],
    );
  });

  it('starts a run on items and reports its progress to completion; the same run name starts nothing new', async () => {
    await withPipelineWorkers(env, api.config, [], async () => {
      const items = ['ada', 'bob', 'cy'].map((id, i) => ({ id, data: { bytes: 10 * (i + 1) } }));
      const started = await api.call('POST', `/pipelines/${api.pipelines.greet}/runs`, { body: { run: 'r1', items } });
      assert.equal(started.status, 202);
      assert.deepEqual(
        [started.body.workflowId, started.body.started, started.body.items, started.body.status],
        ['api-greet/r1', true, 3, '/pipelines/api-greet/runs/r1'],
      );
      assert.match(started.body.webUi, /\/workflows\/api-greet%2Fr1$/);

      const done = await api.finished(started.body.status);
      assert.equal(done.body.status, 'COMPLETED');
      assert.deepEqual([done.body.progress.total, done.body.progress.done, done.body.progress.completed], [3, 3, 3]);
      assert.equal(done.body.progress.stages.hello.passed, 3);
      assert.deepEqual(done.body.reduce.count, { count: 3, sums: { bytes: 60 }, histograms: {} });

      const again = await api.call('POST', `/pipelines/${api.pipelines.greet}/runs`, { body: { run: 'r1', items } });
      assert.equal(again.status, 200);
      assert.deepEqual([again.body.workflowId, again.body.started], ['api-greet/r1', false]);
    });
  });

  it('starts a run on a folder under the input roots: one item per file, with its path and size', async () => {
    const folder = path.join(api.inputs, 'batch-1');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'a.txt'), 'hello\n');
    fs.writeFileSync(path.join(folder, 'b.csv'), 'x,y\n1,2\n');
    await withPipelineWorkers(env, api.config, [], async () => {
      const started = await api.call('POST', `/pipelines/${api.pipelines.greet}/runs`, {
        body: { run: 'folder-1', source: { path: folder } },
      });
      assert.equal(started.status, 202, JSON.stringify(started.body));
      assert.equal(started.body.items, 2);
      const done = await api.finished(started.body.status);
      assert.deepEqual(done.body.reduce.count, { count: 2, sums: { bytes: 6 + 8 }, histograms: {} });
    });
  });

  it('publishing the same event twice starts one run per subscribed pipeline', async () => {
    await withPipelineWorkers(env, api.config, [], async () => {
      const event = { id: 'signup-42', data: { email: 'ada@example.test', bytes: 7 } };
      const first = await api.call('POST', '/topics/signups/events', { body: event });
      assert.equal(first.status, 202);
      const ids = ['api-greet/event-signup-42', 'api-audit/event-signup-42'];
      assert.deepEqual(
        first.body.runs.map((r: { workflowId: string; started: boolean }) => [r.workflowId, r.started]),
        ids.map((id) => [id, true]),
      );
      const second = await api.call('POST', '/topics/signups/events', { body: event });
      assert.equal(second.status, 200);
      assert.deepEqual(
        second.body.runs.map((r: { workflowId: string; started: boolean }) => [r.workflowId, r.started]),
        ids.map((id) => [id, false]),
      );

      for (const run of first.body.runs) assert.equal((await api.finished(run.status)).body.status, 'COMPLETED');
      const afterEnd = await api.call('POST', '/topics/signups/events', { body: event });
      assert.equal(afterEnd.status, 200, 'a finished run is not started again either');
      for (const id of ids) {
        const executions = [];
        for await (const execution of env.client.workflow.list({ query: `WorkflowId = '${id}'` }))
          executions.push(execution);
        assert.equal(executions.length, 1, `one execution of ${id}`);
      }
      const greet = await api.call('GET', first.body.runs[0].status);
      assert.deepEqual(greet.body.reduce.count.sums, { bytes: 7 }, 'the event data is the item');
    });
  });

  it('lists a finished run’s dead letters and redrives them once, entering at the failed stage', async () => {
    await withPipelineWorkers(env, api.config, [], async () => {
      const items = [
        { id: 'good', data: {} },
        { id: 'bad', data: { fail: 'invalid' } },
      ];
      const started = await api.call('POST', `/pipelines/${api.pipelines.flaky}/runs`, { body: { run: 'd1', items } });
      const runPath = started.body.status;
      const done = await api.finished(runPath);
      assert.deepEqual([done.body.progress.completed, done.body.progress.deadLettered], [1, 1]);

      const letters = await api.call('GET', `${runPath}/dead-letters`);
      assert.equal(letters.status, 200);
      assert.deepEqual(
        letters.body.deadLetters.map((l: { itemId: string; stage: string; error: { type: string } }) => [
          l.itemId,
          l.stage,
          l.error.type,
        ]),
        [['bad', 'deliver', 'InvalidInput']],
      );
      assert.deepEqual(letters.body.deadLetters[0].input.data.trail, ['prepare']);

      const redrive = await api.call('POST', `${runPath}/dead-letters/redrive`);
      assert.equal(redrive.status, 202);
      assert.deepEqual(
        redrive.body.runs.map((r: { workflowId: string }) => r.workflowId),
        ['api-flaky/d1-redrive-deliver'],
      );
      const redone = await api.finished(redrive.body.runs[0].status);
      assert.equal(redone.body.progress.total, 1);
      assert.equal(redone.body.progress.stages.prepare?.entered ?? 0, 0, 'entered at the failed stage');
      assert.equal(redone.body.progress.stages.deliver.entered, 1);

      const twice = await api.call('POST', `${runPath}/dead-letters/redrive`);
      assert.deepEqual(
        twice.body.runs.map((r: { workflowId: string }) => r.workflowId),
        ['api-flaky/d1-redrive-deliver'],
      );
      const executions = [];
      for await (const e of env.client.workflow.list({ query: `WorkflowId = 'api-flaky/d1-redrive-deliver'` }))
        executions.push(e);
      assert.equal(executions.length, 1, 'a second redrive starts nothing new');
    });
  });
});
