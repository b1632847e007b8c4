import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collect, DirectorySource, ManifestSource, sourcesFromInputs } from '../src/sources';
import { PublishFailures } from '../src/sources/inbox-failures';
import { itemIdForPath } from '../src/sources/item-id';
import { readPipelineItems } from '../src/sources/pipeline-items';

describe('sources', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sources-'));
    for (const name of ['b clip.MP4', 'a.mp4', '.hidden.mp4', 'notes.txt']) fs.writeFileSync(path.join(dir, name), 'x');
    fs.mkdirSync(path.join(dir, 'sub'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a directory yields its files in name order with stable, safe IDs', async () => {
    const items = await collect(new DirectorySource(dir));
    assert.deepEqual(
      items.map((i) => path.basename(i.payload.path)),
      ['a.mp4', 'b clip.MP4', 'notes.txt'],
    );
    assert.match(items[1].id, /^b-clip-mp4-[0-9a-f]{8}$/);
    assert.deepEqual(await collect(new DirectorySource(dir)), items, 'same folder, same batch');
    const videos = await collect(new DirectorySource(dir, ['.mp4']));
    assert.equal(videos.length, 2);
  });

  it('the same file name in two folders gets two IDs', () => {
    assert.notEqual(itemIdForPath('/x/clip.mp4'), itemIdForPath('/y/clip.mp4'));
  });

  it('a JSON-lines manifest resolves paths against its folder and keeps given IDs', async () => {
    const manifest = path.join(dir, 'batch.jsonl');
    fs.writeFileSync(manifest, '# videos\n{"path": "a.mp4"}\n\n{"path": "/abs/c.mp4", "id": "clip-c"}\n');
    const items = await collect(new ManifestSource(manifest));
    assert.deepEqual(items[0].payload.path, path.join(dir, 'a.mp4'));
    assert.deepEqual(items[1], { id: 'clip-c', payload: { path: '/abs/c.mp4' } });
  });

  it('a bad manifest line names the file, the line and the fix', async () => {
    const manifest = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(manifest, '{"path": "a.mp4"}\n{"file": "b.mp4"}\n');
    await assert.rejects(
      collect(new ManifestSource(manifest)),
      /bad\.jsonl:2: missing "path"; each line must be an object like/,
    );
    fs.writeFileSync(manifest, 'not json\n');
    await assert.rejects(collect(new ManifestSource(manifest)), /bad\.jsonl:1: not valid JSON/);
    fs.writeFileSync(manifest, '{"path": "a.mp4", "id": "../escape"}\n');
    await assert.rejects(collect(new ManifestSource(manifest)), /item id "\.\.\/escape" is not usable/);
  });

  it('command-line inputs mix files, folders and manifests; a missing input is named', async () => {
    fs.writeFileSync(path.join(dir, 'sub', 'x.mp4'), 'x');
    const sources = sourcesFromInputs([path.join(dir, 'a.mp4'), path.join(dir, 'sub')]);
    const items = (await Promise.all(sources.map(collect))).flat();
    assert.deepEqual(
      items.map((i) => path.basename(i.payload.path)),
      ['a.mp4', 'x.mp4'],
    );
    assert.throws(
      () => sourcesFromInputs([path.join(dir, 'nope.mp4')]),
      /nope\.mp4 does not exist; pass video files, a folder or a \.jsonl manifest/,
    );
  });

  it('pipeline items come from JSON lines; a repeated id is kept once; bad lines name the place', async () => {
    const file = path.join(dir, 'users.jsonl');
    fs.writeFileSync(
      file,
      '# users\n{"id": "u1", "data": {"optIn": true}, "origin": "web"}\n{"id": "u2"}\n{"id": "u1", "data": {}}\n',
    );
    assert.deepEqual(await readPipelineItems(file), [
      { id: 'u1', data: { optIn: true }, origin: 'web' },
      { id: 'u2', data: {} },
    ]);
    fs.writeFileSync(file, '{"data": {}}\n');
    await assert.rejects(readPipelineItems(file), /users\.jsonl:1: missing "id"; each line must be an object like/);
    fs.writeFileSync(file, '{"id": "u1", "data": [1]}\n');
    await assert.rejects(readPipelineItems(file), /users\.jsonl:1: "data" must be an object/);
    await assert.rejects(
      readPipelineItems(path.join(dir, 'none.jsonl')),
      /does not exist; pass a \.jsonl file of items/,
    );
  });

  it('inbox publish failures back off per file, doubling up to a cap; Temporal outages never poison a file', () => {
    const failures = new PublishFailures({ maxFailures: 3, initialDelayMs: 1000, maxDelayMs: 3000 });
    const delays = [0, 1, 2].map((i) => failures.failed('broken', new Error('disk full'), i));
    assert.deepEqual(delays, [{ kind: 'retry', inMs: 1000 }, { kind: 'retry', inMs: 2000 }, { kind: 'poison' }]);
    assert.equal(failures.due('other', 0), true, 'other files are not held up');
    // What the client throws while the server is down: a gRPC UNAVAILABLE as the cause.
    const unavailable = Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
      code: 14,
      details: 'No connection established',
      metadata: {},
    });
    const outage = new Error('Failed to start workflow', { cause: unavailable });
    const verdicts = Array.from({ length: 10 }, (_, i) => failures.failed('during-outage', outage, i * 10_000));
    assert.ok(
      verdicts.every((v) => v.kind === 'retry'),
      'retried for as long as the outage lasts',
    );
    assert.deepEqual(verdicts.at(-1), { kind: 'retry', inMs: 3000 }, 'the backoff stops growing at its cap');
    assert.equal(failures.due('during-outage', 90_000 + 2999), false);
    assert.equal(failures.due('during-outage', 90_000 + 3000), true);
  });
});
