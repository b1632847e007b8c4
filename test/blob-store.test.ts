/**
 * The blob store on a real folder: content-addressed uploads (the same bytes stored once, whatever their name, and
 * always exactly the bytes their name is the hash of) and URIs that cannot reach outside the store.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BlobStore, BlobUriError } from '../src/storage/blob-store';
import { listFiles, outputFolder } from './support/media';

describe('blob store', () => {
  it('stores an upload under its SHA-256 once, whatever the file is called', async () => {
    const inputs = outputFolder('blob-store-inputs');
    const store = new BlobStore(outputFolder('blob-store'));
    const content = Buffer.from('not really a video, but bytes are bytes\n');
    fs.writeFileSync(path.join(inputs, 'Clip One.MP4'), content);
    fs.writeFileSync(path.join(inputs, 'copy.mp4'), content);

    const first = await store.put(path.join(inputs, 'Clip One.MP4'));
    const second = await store.put(path.join(inputs, 'copy.mp4'));

    const sha256 = createHash('sha256').update(content).digest('hex');
    assert.equal(first.sha256, sha256);
    assert.equal(first.uri, `blob://uploads/${sha256}.mp4`);
    assert.equal(second.uri, first.uri);
    assert.equal(first.bytes, content.length);
    assert.deepEqual(listFiles(store.root), [`uploads/${sha256}.mp4`]);
    assert.deepEqual(fs.readFileSync(store.pathOf(first.uri)), content);
  });

  it('stores exactly the bytes it hashed, even when the source changes while it is read', async () => {
    const store = new BlobStore(outputFolder('blob-store-changing'));
    const hashOf = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    // /proc/self/io is a regular file whose content changes with every read (it counts the bytes this process has
    // read): hashing it and then copying it reads two different contents, deterministically.
    const changing = '/proc/self/io';
    assert.notDeepEqual(fs.readFileSync(changing), fs.readFileSync(changing), 'the source changes between reads');
    const stored = await store.put(changing);
    const bytes = fs.readFileSync(store.pathOf(stored.uri));
    assert.equal(hashOf(bytes), stored.sha256, 'the stored bytes hash to the name they are stored under');
    assert.ok(bytes.length > 0, 'something was stored');
    assert.equal(stored.uri, `blob://uploads/${stored.sha256}`);
    assert.equal(stored.bytes, bytes.length);

    // A file being appended to while it is uploaded: whatever part was read is what is stored under its hash.
    const growing = path.join(outputFolder('blob-store-growing'), 'recording.mp4');
    fs.writeFileSync(growing, Buffer.alloc(4 * 1024 * 1024, 1));
    let appending = true;
    const appender = (async () => {
      for (let i = 0; appending && i < 10_000; i++) {
        await fs.promises.appendFile(growing, Buffer.alloc(64 * 1024, i % 256));
      }
    })();
    const puts = await Promise.all([store.put(growing), store.put(growing), store.put(growing)]);
    appending = false;
    await appender;
    for (const put of puts) {
      const content = fs.readFileSync(store.pathOf(put.uri));
      assert.equal(hashOf(content), put.sha256, `${put.uri} holds the bytes of its name`);
      assert.equal(content.length, put.bytes);
    }
    assert.ok(
      listFiles(store.root).every((f) => !f.includes('.tmp')),
      `no temporaries left: ${listFiles(store.root).join(', ')}`,
    );
  });

  it('maps keys inside the root and refuses anything that could leave it', () => {
    const store = new BlobStore(outputFolder('blob-store-keys'));
    assert.equal(
      store.pathOf('blob://renditions/ab12/1080p.mp4'),
      path.join(store.root, 'renditions', 'ab12', '1080p.mp4'),
    );
    for (const bad of [
      'blob://../outside.mp4',
      'blob://uploads/../../etc/passwd',
      'blob:///etc/passwd',
      'blob://uploads//x.mp4',
      'blob://.hidden',
      'blob://uploads/x\\..\\y',
      'blob://',
      'file:///etc/passwd',
      '/etc/passwd',
    ]) {
      assert.throws(() => store.pathOf(bad), BlobUriError, bad);
    }
  });

  it('says which file cannot be uploaded', async () => {
    const store = new BlobStore(outputFolder('blob-store-missing'));
    await assert.rejects(
      store.put('/no/such/video.mp4'),
      /Cannot upload \/no\/such\/video\.mp4: it is not a readable file/,
    );
  });
});
