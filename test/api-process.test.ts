/**
 * The API as its own process (`npm run api` with its output in a log file, as `npm start` and
 * operators run it): a malformed request line, sent without a token, is answered 400 and does
 * not end the process; the token stays out of the log, which says where to read it instead.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ApiProcess } from './support/api-process';
import { rawExchange } from './support/raw-http';
import { sharedDevServer } from './support/servers';

describe('HTTP API process', function () {
  let api: ApiProcess;
  before(async () => {
    const env = await sharedDevServer();
    api = await new ApiProcess(env.address, { BATCH_API_TOKEN: '' }).start(); // a token is generated
  });
  after(async () => {
    await api?.stop();
    api?.cleanUp();
  });

  for (const packet of [
    'GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET http://[ HTTP/1.1\r\n\r\n',
    'POST http://[/pipelines HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}',
    'GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET / HTTP/1.1\r\nbad header\r\n\r\n',
  ]) {
    it(`answers ${JSON.stringify(packet).slice(0, 64)} with a JSON 400 and stays up`, async () => {
      const answer = await rawExchange(api.port, packet);
      assert.equal(answer.status, 400, answer.raw);
      const body = JSON.parse(answer.body);
      assert.equal(typeof body.error, 'string');
      assert.match(body.message, /not a valid URL|not valid HTTP|Host header/);
      const after = await rawExchange(api.port, 'GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(after.status, 200, 'the API still serves');
      assert.ok(api.alive, `the API process is alive; its log:\n${api.log()}`);
    });
  }

  it('keeps the token out of its log, which says where to read it (a file only its owner reads)', () => {
    const tokenFile = path.join(api.dataDir, 'api-token');
    const token = fs.readFileSync(tokenFile, 'utf8').trim();
    assert.ok(token.length >= 20);
    const log = api.log();
    assert.match(log, /HTTP API: http:\/\/127\.0\.0\.1:\d+/);
    assert.ok(!log.includes(token), `the token is not in the log:\n${log}`);
    assert.match(
      log,
      new RegExp(`API token: in ${tokenFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(readable by its owner only`),
    );
    assert.equal(fs.statSync(tokenFile).mode & 0o777, 0o600);
  });
});
