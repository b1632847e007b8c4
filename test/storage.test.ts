/**
 * The storage contract, the same assertions on both backends: the local folder and a real S3
 * server (the Versity gateway). Keys round-trip, listings page in key order, `ifAbsent` keeps the
 * first writer's object, a missing object is a clear error, and a wrong setting is refused at
 * `check()` with a message naming what to fix.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LocalObjectStore } from '../src/storage/local-store';
import { ObjectMissingError, ObjectStore, StorageConfigError, StorageUriError } from '../src/storage/object-store';
import { S3ObjectStore } from '../src/storage/s3-store';
import { storageConfigFromEnv } from '../src/storage/storage-config';
import { localCopyOf } from '../src/storage/stage-files';
import { removeOrphanScratch, scratchRoot, withScratch } from '../src/storage/scratch';
import { freePort } from '../src/infra/wait';
import { outputFolder } from './support/media';
import { startTestS3, TestS3 } from './support/s3';

describe('storage', function () {
  this.timeout(120_000);
  let s3: TestS3;
  before(async () => {
    s3 = await startTestS3('contract');
  });
  after(async () => s3?.stop());

  const backends: [string, () => ObjectStore][] = [
    ['local folder', () => new LocalObjectStore(outputFolder('storage-local'))],
    ['S3 (Versity gateway)', () => s3.store],
  ];

  for (const [name, open] of backends) {
    describe(name, () => {
      it('stores, reads, lists in pages and deletes objects by key', async () => {
        const store = open();
        const dir = outputFolder(`storage-files-${name.split(' ')[0]}`);
        const file = path.join(dir, 'in.bin');
        fs.writeFileSync(file, Buffer.alloc(40_000, 7));
        const put = await store.putFile('runs/r1/in.bin', file);
        assert.equal(put.created, true);
        assert.equal(put.bytes, 40_000);
        assert.equal(store.keyOf(put.uri), 'runs/r1/in.bin');
        for (const k of ['b', 'a', 'c', 'd', 'e']) await store.putBytes(`runs/r1/list/${k}.txt`, `item ${k}\n`);
        assert.equal((await store.getBytes('runs/r1/list/c.txt'))?.toString(), 'item c\n');
        assert.equal(await store.getBytes('runs/r1/list/none.txt'), undefined);

        const first = await store.list('runs/r1/list/', { limit: 2 });
        assert.deepEqual(
          first.objects.map((o) => o.key),
          ['runs/r1/list/a.txt', 'runs/r1/list/b.txt'],
        );
        const rest = await store.list('runs/r1/list/', { after: first.next, limit: 10 });
        assert.deepEqual(
          rest.objects.map((o) => o.key),
          ['runs/r1/list/c.txt', 'runs/r1/list/d.txt', 'runs/r1/list/e.txt'],
        );
        assert.equal(rest.next, undefined);

        const copy = path.join(dir, 'copy.bin');
        await store.download('runs/r1/in.bin', copy);
        assert.deepEqual(fs.readFileSync(copy), fs.readFileSync(file));
        await store.delete('runs/r1/in.bin');
        assert.equal(await store.head('runs/r1/in.bin'), undefined);
        await assert.rejects(store.download('runs/r1/in.bin', copy), ObjectMissingError);
      });

      it('keeps the first object when two writers race for a key with ifAbsent', async () => {
        const store = open();
        const results = await Promise.all(
          ['first', 'second', 'third'].map((w) => store.putBytes('once/result.json', `${w}\n`, { ifAbsent: true })),
        );
        assert.equal(results.filter((r) => r.created).length, 1, 'exactly one writer creates the object');
        const winner = ['first', 'second', 'third'][results.findIndex((r) => r.created)];
        assert.equal((await store.getBytes('once/result.json'))?.toString(), `${winner}\n`);
        const again = await store.putBytes('once/result.json', 'later\n', { ifAbsent: true });
        assert.equal(again.created, false);
        assert.equal((await store.getBytes('once/result.json'))?.toString(), `${winner}\n`);
      });

      it('refuses keys that could escape a folder', () => {
        const store = open();
        for (const key of ['../x', 'a//b', '/abs', 'a/./b', 'a\\b', '', 'nul\0']) {
          assert.throws(() => store.uriOf(key), StorageUriError, key);
        }
      });
    });
  }

  it('streams a multipart upload (above 16 MiB) and keeps ifAbsent on it', async () => {
    const dir = outputFolder('storage-multipart');
    const file = path.join(dir, 'big.bin');
    const big = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    fs.writeFileSync(file, big);
    const put = await s3.store.putFile('big/big.bin', file, { ifAbsent: true });
    assert.equal(put.created, true);
    assert.equal(put.bytes, big.length);
    const again = await s3.store.putFile('big/big.bin', file, { ifAbsent: true });
    assert.equal(again.created, false);
    await withScratch(async (scratch) => {
      const local = await localCopyOf(put.uri, scratch, s3.store);
      assert.ok(local.startsWith(scratch), 'an S3 input is downloaded into scratch');
      assert.deepEqual(fs.readFileSync(local), big);
    }, dir);
    assert.deepEqual(fs.readdirSync(scratchRoot(dir)), [], 'scratch is removed after the item');
  });

  it('removes the scratch folders of dead processes', async () => {
    const dir = outputFolder('storage-orphans');
    fs.mkdirSync(path.join(scratchRoot(dir), '999999.abc', 'in'), { recursive: true });
    fs.mkdirSync(path.join(scratchRoot(dir), `${process.pid}.live`), { recursive: true });
    assert.equal(await removeOrphanScratch(dir), 1);
    assert.deepEqual(fs.readdirSync(scratchRoot(dir)), [`${process.pid}.live`]);
  });

  describe('bad configuration is refused at start with what to fix', () => {
    it('wrong credentials', async () => {
      const store = new S3ObjectStore({ ...s3.gateway.storage.s3, secretAccessKey: 'wrong' });
      await assert.rejects(store.check(), (err: Error) => {
        assert.ok(err instanceof StorageConfigError, err.message);
        assert.match(err.message, /access denied.*BATCH_S3_SECRET_ACCESS_KEY/);
        return true;
      });
    });
    it('missing bucket', async () => {
      const store = new S3ObjectStore({ ...s3.gateway.storage.s3, bucket: 'no-such-bucket' });
      await assert.rejects(store.check(), /bucket no-such-bucket does not exist.*BATCH_S3_BUCKET/);
    });
    it('unreachable endpoint', async () => {
      const endpoint = `http://127.0.0.1:${await freePort()}`;
      const store = new S3ObjectStore({ ...s3.gateway.storage.s3, endpoint });
      await assert.rejects(store.check(), /unreachable.*BATCH_S3_ENDPOINT/);
    });
    it('incomplete settings', () => {
      assert.throws(() => storageConfigFromEnv({ BATCH_STORAGE: 's3' }), /needs BATCH_S3_BUCKET/);
      assert.throws(() => storageConfigFromEnv({ BATCH_STORAGE: 'ftp' }), /"local" or "s3"/);
      assert.throws(
        () => storageConfigFromEnv({ BATCH_STORAGE: 's3', BATCH_S3_BUCKET: 'ok-bucket', BATCH_S3_ACCESS_KEY_ID: 'x' }),
        /both BATCH_S3_ACCESS_KEY_ID and BATCH_S3_SECRET_ACCESS_KEY/,
      );
    });
  });
});
