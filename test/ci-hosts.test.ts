/**
 * ci-merge with builder hosts that share nothing but Temporal and the S3 bucket (the real Versity
 * gateway): repositories are named by URL (`file://` URLs of bare repositories, on the hosts'
 * BATCH_CI_REPOSITORIES), each host fetches them into its own clone cache, and build records and
 * logs go to the bucket — so host B never rebuilds what host A built, and never clones a repository
 * whose commits are all recorded. A URL off the allowlist and an `ext::` remote on it (an
 * operator's mistake, on a host whose git config allows ext) are InvalidInput dead letters: git
 * itself refuses the transport (GIT_ALLOW_PROTOCOL=file:https:ssh), so the command in the remote
 * never runs.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { buildKeys } from '../src/activities/ci-merge/build-records';
import { cloneCacheDir } from '../src/activities/ci-merge/clone-cache';
import { commitFiles, initRepository } from '../src/cli/flows/ci-merge-demo-repos';
import { startPipelineRun } from '../src/client/pipeline-run';
import type { BuildRecord } from '../src/core/commit-build';
import { loadPipelineSpecFile } from '../src/pipelines/load';
import type { PipelineItem } from '../src/pipelines/spec';
import { git } from '../src/infra/git';
import { repoRoot } from '../src/infra/paths';
import { buildWorkflowBundle } from '../src/workers/workflow-bundle';
import { isolatedConfig } from './support/config';
import { startHost, TestHost } from './support/hosts';
import { outputFolder } from './support/media';
import { startTestS3, TestS3 } from './support/s3';
import { sharedDevServer } from './support/servers';

const specFile = path.join(repoRoot, 'pipelines', 'examples', 'ci-merge.yaml');

interface Remote {
  url: string;
  commits: { sha: string; subject: string }[];
}

/** A bare repository `<name>.git` with `count` commits that build (`.batch-ci`), as a file:// URL. */
async function bareRepository(dir: string, name: string, count: number): Promise<Remote> {
  const work = await initRepository(path.join(dir, 'work', name));
  const commits: Remote['commits'] = [];
  for (let i = 1; i <= count; i++) {
    const subject = `${name} step ${i}`;
    const files: Record<string, string> = { 'step.txt': `${i}\n` };
    if (i === 1) files['.batch-ci'] = `echo "building ${name} step $(cat step.txt)"\n`;
    commits.push({ sha: await commitFiles(work, subject, files), subject });
  }
  const bare = path.join(dir, `${name}.git`);
  await git(dir, ['clone', '--bare', '--quiet', work, bare]);
  return { url: `file://${bare}`, commits };
}

const itemsOf = (remote: Remote, origin: string): PipelineItem[] =>
  remote.commits.map((c) => ({
    id: c.sha,
    origin,
    data: { repo: remote.url, sha: c.sha, subject: c.subject, author: 'Test' },
  }));

describe('ci-merge on two builder hosts: repositories by URL, records and logs in S3', function () {
  let env: TestWorkflowEnvironment;
  let s3: TestS3;
  const hosts: TestHost[] = [];

  before(async () => {
    [env, s3] = await Promise.all([sharedDevServer(), startTestS3('ci-hosts')]);
  });
  after(async () => {
    await Promise.all(hosts.map((h) => h.worker.stop()));
    await s3?.stop();
  });

  it('builds on each host from its own clone cache; B reuses A’s records; off-list and ext:: remotes are dead letters', async () => {
    const dir = outputFolder('ci-hosts-repos');
    fs.chmodSync(dir, 0o755);
    const [alpha, beta, gamma] = await Promise.all([
      bareRepository(dir, 'alpha', 2),
      bareRepository(dir, 'beta', 2),
      bareRepository(dir, 'gamma', 1),
    ]);
    const marker = path.join(dir, 'ext-ran');
    const extRemote = `ext::sh -c touch% ${marker}`;
    const config = isolatedConfig(env.address);
    const spec = loadPipelineSpecFile(specFile);
    const bundle = await buildWorkflowBundle();
    const host = async (name: string) => {
      const started = await startHost({
        name,
        config,
        storageEnv: s3.env,
        roles: 'workflows,stages',
        workflowBundlePath: bundle,
        env: {
          // gamma is not on the list; the ext:: remote is (an operator's mistake).
          BATCH_CI_REPOSITORIES: [alpha.url, beta.url, extRemote].join(','),
          // A host whose git config allows the ext transport: only GIT_ALLOW_PROTOCOL stops it.
          GIT_CONFIG_COUNT: '1',
          GIT_CONFIG_KEY_0: 'protocol.ext.allow',
          GIT_CONFIG_VALUE_0: 'always',
        },
      });
      hosts.push(started);
      return started;
    };
    const run = async (runName: string, items: PipelineItem[]) => {
      const handle = await startPipelineRun(env.client, config, spec, { items }, { runName });
      return handle.result();
    };
    const record = async (sha: string): Promise<BuildRecord> =>
      JSON.parse((await s3.store.getBytes(buildKeys(sha, undefined).record))?.toString() ?? 'null');

    // Host A builds alpha, then goes away.
    const hostA = await host('ci-a');
    const first = await run('ci-hosts-1', itemsOf(alpha, 'alpha'));
    assert.equal(first.deadLettered, 0, JSON.stringify(first.deadLetters));
    await hostA.worker.stop();

    // Host B: alpha again (recorded: not rebuilt, not even cloned), beta new, gamma and ext refused.
    const hostB = await host('ci-b');
    const fakeSha = 'e'.repeat(40);
    const second = await run('ci-hosts-2', [
      ...itemsOf(alpha, 'alpha'),
      ...itemsOf(beta, 'beta'),
      ...itemsOf(gamma, 'gamma'),
      { id: fakeSha, origin: 'ext', data: { repo: extRemote, sha: fakeSha, subject: 'x', author: 'x' } },
    ]);
    const letters = new Map(second.deadLetters.map((l) => [l.itemId, l]));
    assert.deepEqual([...letters.keys()].sort(), [gamma.commits[0].sha, fakeSha].sort());
    for (const letter of letters.values()) {
      assert.equal(letter.error.type, 'InvalidInput');
      assert.equal(letter.attempts, 1, 'not retried');
    }
    assert.match(
      letters.get(gamma.commits[0].sha)!.error.message,
      /gamma\.git" is not a repository this server builds/,
    );
    assert.match(letters.get(fakeSha)!.error.message, /transport 'ext' not allowed/);
    assert.ok(!fs.existsSync(marker), 'the command in the ext:: remote never ran');

    for (const [remote, builtBy] of [
      [alpha, 'ci-hosts-1'],
      [beta, 'ci-hosts-2'],
    ] as const) {
      for (const { sha } of remote.commits) {
        const built = await record(sha);
        assert.equal(built.status, 'passed', JSON.stringify(built));
        assert.equal(built.builtInRun, builtBy, 'built once, by the first run that needed it');
        assert.equal(built.logPath, s3.store.uriOf(buildKeys(sha, undefined).log));
        assert.match(built.logPath, /^s3:\/\//);
        const log = (await s3.store.getBytes(buildKeys(sha, undefined).log))!.toString();
        assert.match(log, /building (alpha|beta) step \d\nExit code 0/);
      }
    }
    const cacheOf = (h: TestHost, r: Remote) => fs.existsSync(cloneCacheDir(path.join(h.dataDir, 'ci-merge'), r.url));
    assert.deepEqual(
      [cacheOf(hostA, alpha), cacheOf(hostA, beta), cacheOf(hostB, alpha), cacheOf(hostB, beta)],
      [true, false, false, true],
      "each host fetched only what it built, into its own cache (B found alpha's records in the bucket)",
    );
    for (const h of [hostA, hostB]) {
      const local = h.files().filter((f) => /^ci-merge\/builds\/.*\.(json|log)$/.test(f));
      assert.deepEqual(local, [], `no build record or log on host ${h.name}'s own disk`);
    }
  });
});
