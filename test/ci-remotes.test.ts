/**
 * Remote repositories for ci-merge, without Temporal: the allowlist's two forms (folders
 * `:`-separated, URLs `,`-separated), exact URL matching for API and event runs, and a builder
 * host's clone cache — made once, fetched into for a new commit, refusing a remote git cannot or
 * may not fetch (an `ext::` command above all, even where git's own config allows it) as bad input.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { allowedRepository, refusedBuildItem } from '../src/activities/ci-merge/build-requests';
import { allowedRepositoriesFromEnv } from '../src/activities/ci-merge/ci-settings';
import { cachedClone, cloneCacheDir } from '../src/activities/ci-merge/clone-cache';
import { commitFiles, initRepository } from '../src/cli/flows/ci-merge-demo-repos';
import { git } from '../src/infra/git';
import { outputFolder } from './support/media';

const signal = new AbortController().signal;

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ApplicationFailure, String(error));
  return error;
}

describe('ci-merge remotes: allowlist and per-host clone cache', function () {
  it('reads folders and URLs from BATCH_CI_REPOSITORIES and matches URLs exactly', async () => {
    const env = {
      BATCH_CI_REPOSITORIES: '/srv/a:/srv/b,file:///srv/c.git/, https://git.example/d.git\nssh://git@git.example/e.git',
    };
    const allowed = allowedRepositoriesFromEnv(env);
    assert.deepEqual(allowed, [
      '/srv/a',
      '/srv/b',
      'file:///srv/c.git',
      'https://git.example/d.git',
      'ssh://git@git.example/e.git',
    ]);
    assert.equal(await allowedRepository('https://git.example/d.git/', allowed), 'https://git.example/d.git');
    assert.equal(await allowedRepository('https://git.example/d.git.evil', allowed), undefined);
    assert.equal(await allowedRepository('HTTPS://git.example/d.git', allowed), undefined);
    assert.equal(await allowedRepository('ext::sh -c id', allowed), undefined);
    assert.match(
      (await refusedBuildItem({ repo: 'https://elsewhere.example/x.git', sha: 'a'.repeat(40) }, 'items[0].', allowed))!,
      /^items\[0\]\.data\.repo "https:\/\/elsewhere\.example\/x\.git" is not a repository this server builds\. .*its URL \(file:\/\/, https:\/\/, ssh:\/\/\)/,
    );
    assert.equal(await refusedBuildItem({ repo: 'file:///srv/c.git', sha: 'a'.repeat(40) }, '', allowed), undefined);
  });

  it("clones a remote once into this host's cache and fetches a commit pushed later", async () => {
    const dir = outputFolder('ci-remotes');
    const work = await initRepository(path.join(dir, 'work'));
    const first = await commitFiles(work, 'one', { 'a.txt': '1\n' });
    const bare = path.join(dir, 'origin.git');
    await git(dir, ['clone', '--bare', '--quiet', work, bare]);
    const url = `file://${bare}`;
    const ciDir = path.join(dir, 'host', 'ci-merge');

    const cache = await cachedClone(url, first, ciDir, signal);
    assert.equal(cache, cloneCacheDir(ciDir, url));
    assert.equal((await git(cache, ['rev-parse', '--is-bare-repository'])).trim(), 'true');

    const second = await commitFiles(work, 'two', { 'a.txt': '2\n' });
    await git(work, ['push', '--quiet', bare, 'HEAD:refs/heads/main']);
    assert.equal(await cachedClone(url, second, ciDir, signal), cache, 'the same cache, fetched into');
    assert.equal((await git(cache, ['cat-file', '-t', second])).trim(), 'commit');
    assert.deepEqual(
      fs.readdirSync(path.dirname(cache)).filter((f) => !f.endsWith('.lock')),
      [path.basename(cache)],
      'no temporary clone left',
    );

    const missing = await failureOf(cachedClone(`file://${path.join(dir, 'nowhere.git')}`, first, ciDir, signal));
    assert.equal(missing.type, 'InvalidInput');
    assert.match(
      missing.message,
      /The builder cannot fetch file:\/\/.*nowhere\.git: .*does not appear to be a git repository/,
    );
  });

  it('refuses an ext:: remote through GIT_ALLOW_PROTOCOL even where git config allows ext, and runs nothing', async () => {
    const dir = outputFolder('ci-remotes-ext');
    const marker = path.join(dir, 'ext-ran');
    const saved = { ...process.env };
    // A host whose git config allows the ext transport (git's own default refuses it).
    Object.assign(process.env, {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'protocol.ext.allow',
      GIT_CONFIG_VALUE_0: 'always',
    });
    try {
      const failure = await failureOf(
        cachedClone(`ext::sh -c touch% ${marker}`, 'a'.repeat(40), path.join(dir, 'ci-merge'), signal),
      );
      assert.equal(failure.type, 'InvalidInput');
      assert.match(failure.message, /transport 'ext' not allowed.*Only file:\/\/, https:\/\/ and ssh:\/\/ remotes/);
    } finally {
      for (const key of ['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
    assert.ok(!fs.existsSync(marker), 'the command in the remote never ran');
  });
});
