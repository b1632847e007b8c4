/**
 * The blob store on a real folder: content-addressed uploads (the same bytes stored once, whatever their name) and
 * URIs that cannot reach outside the store.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BlobStore, BlobUriError } from '../src/runtime/blob-store';
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
