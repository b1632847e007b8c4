/**
 * The ci-merge flow as a person runs it (`run ci-merge <repos...>`), on the real dev server with
 * real git repositories in temporary folders and real build commands: pass/fail and output per
 * commit, commits shared by a clone or seen by an earlier run built once, a busy repository not
 * starving a quiet one, and clear errors for bad repositories and missing commits.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { buildPaths, readBuildRecord } from '../src/activities/ci-merge/build-records';
import { commandIdOf } from '../src/activities/ci-merge/operator-grants';
import { ciMergeFlow } from '../src/cli/flows/ci-merge';
import { commitFiles, initRepository } from '../src/cli/flows/ci-merge-demo-repos';
import type { FlowContext } from '../src/cli/flows/flow';
import { startPipelineRun } from '../src/client/pipeline-run';
import type { CommitToBuild } from '../src/core/commit-build';
import { loadPipelineSpecFile } from '../src/pipelines/load';
import type { BatchConfig } from '../src/infra/config';
import { git } from '../src/infra/git';
import { ciTestSettings, sharedFile, withCiWorkers } from './support/ci-workers';
import { isolatedConfig } from './support/config';
import { sharedDevServer } from './support/servers';

const counterTest = `count=$(cat count.txt)
echo "count is $count"
[ "$count" -lt 10 ] || { echo "FAIL: count $count is over the limit of 10"; exit 1; }
echo ok
`;

/** The shas a build log file lists, one per build that actually ran. */
const builtShas = (file: string) =>
  fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

describe('ci-merge: commits of many git repositories merged into one build pipeline', function () {
  let env: TestWorkflowEnvironment;
  let tmp: string;
  let n = 0;

  /** A fresh folder, data dir and flow context for one test; `lines` collects what the flow prints. */
  function setup(config: BatchConfig) {
    const dir = path.join(tmp, `t${++n}`);
    fs.mkdirSync(dir, { recursive: true });
    const lines: string[] = [];
    const ctx: FlowContext = {
      client: env.client,
      config,
      dataDir: path.join(dir, 'data'),
      log: (line) => lines.push(line),
    };
    const settings = ciTestSettings(ctx.dataDir);
    return { dir, lines, ctx, settings, builds: path.join(dir, 'data', 'ci-merge', 'builds') };
  }

  before(async () => {
    env = await sharedDevServer();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-merge-test-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('builds every commit once, also those a clone shares, and records passed/failed with the output', async () => {
    const config = isolatedConfig(env.address);
    const { dir, lines, ctx, settings, builds } = setup(config);
    const built = sharedFile(path.join(dir, 'built.txt'));
    const batchCi = `git rev-parse HEAD >> ${built} && sh test.sh\n`;
    const alpha = await initRepository(path.join(dir, 'alpha'));
    const a1 = await commitFiles(alpha, 'Add the counter', {
      '.batch-ci': batchCi,
      'test.sh': counterTest,
      'count.txt': '1\n',
    });
    const a2 = await commitFiles(alpha, 'Count to 2', { 'count.txt': '2\n' });
    const beta = await initRepository(path.join(dir, 'beta'));
    const b1 = await commitFiles(beta, 'Add the counter', {
      '.batch-ci': batchCi,
      'test.sh': counterTest,
      'count.txt': '5\n',
    });
    const b2 = await commitFiles(beta, 'Count to 12', { 'count.txt': '12\n' });
    const b3 = await commitFiles(beta, 'Count back to 7', { 'count.txt': '7\n' });
    const gamma = path.join(dir, 'gamma');
    await git(dir, ['clone', '--quiet', alpha, gamma]);
    const g1 = await commitFiles(gamma, 'Count to 3', { 'count.txt': '3\n' });

    await withCiWorkers(env, config, settings, () => ciMergeFlow.run([alpha, beta, gamma, '--run', 'first'], ctx));

    const all = [a1, a2, b1, b2, b3, g1];
    assert.deepEqual(
      builtShas(built).sort(),
      [...all].sort(),
      'each commit built exactly once, a1 and a2 not again for gamma',
    );
    for (const sha of all) {
      const record = await readBuildRecord(buildPaths(builds, sha, undefined).record);
      assert.ok(record, `a result is recorded for ${sha}`);
      const log = fs.readFileSync(record.logPath, 'utf8');
      if (sha === b2) {
        assert.equal(record.status, 'failed');
        assert.equal(record.exitCode, 1);
        assert.match(log, /FAIL: count 12 is over the limit of 10/);
      } else {
        assert.equal(record.status, 'passed', `${sha}: ${log}`);
        assert.equal(record.exitCode, 0);
        assert.match(log, /count is \d+\nok\n/);
      }
    }
    assert.equal(lines.filter((l) => l.includes('FAILED')).length, 1);
    const failedLine = lines.find((l) => l.includes('FAILED'))!;
    for (const part of ['beta', b2.slice(0, 7), 'Count to 12', '(exit 1)', buildPaths(builds, b2, undefined).log]) {
      assert.ok(failedLine.includes(part), `"${failedLine}" names ${part}`);
    }
    assert.ok(
      lines.includes('Per repository: alpha 2 passed, 0 failed · beta 2 passed, 1 failed · gamma 1 passed, 0 failed'),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) =>
        l.startsWith('Report (report): build.status: passed 5, failed 1 · $origin: beta 3, alpha 2, gamma 1'),
      ),
      lines.join('\n'),
    );
    assert.match(lines[0], /^Started ci-merge\/first: 6 commits from 3 repositories\. Web UI: http/);
    for (const repo of [alpha, beta, gamma]) {
      const worktrees = (await git(repo, ['worktree', 'list', '--porcelain'])).match(/^worktree /gm) ?? [];
      assert.equal(worktrees.length, 1, `no build worktree left in ${repo}`);
    }
  });

  it('a second run builds only the new commits; --all lists every commit again and reuses their results', async () => {
    const config = isolatedConfig(env.address);
    const { dir, lines, ctx, settings } = setup(config);
    const built = sharedFile(path.join(dir, 'built.txt'));
    const command = `git rev-parse HEAD >> ${built}`;
    const repo = await initRepository(path.join(dir, 'app'));
    const first = [
      await commitFiles(repo, 'One', { 'n.txt': '1\n' }),
      await commitFiles(repo, 'Two', { 'n.txt': '2\n' }),
    ];
    await withCiWorkers(env, config, settings, async () => {
      await ciMergeFlow.run([repo, '--command', command, '--run', 'one'], ctx);
      assert.deepEqual(builtShas(built).sort(), [...first].sort());

      const three = await commitFiles(repo, 'Three', { 'n.txt': '3\n' });
      lines.length = 0;
      await ciMergeFlow.run([repo, '--command', command, '--run', 'two'], ctx);
      assert.deepEqual(builtShas(built).slice(2), [three], 'only the new commit was built');
      assert.match(
        lines.find((l) => l.startsWith('ci-merge two'))!,
        /^ci-merge two: 1 commit from 1 repository/,
      );

      lines.length = 0;
      await ciMergeFlow.run([repo, '--command', command, '--run', 'three'], ctx);
      assert.deepEqual(lines, [
        'No new commits in app since the last run: nothing to build (--all lists every commit again).',
      ]);

      lines.length = 0;
      await ciMergeFlow.run([repo, '--command', command, '--all', '--run', 'everything'], ctx);
      assert.equal(builtShas(built).length, 3, '--all rebuilt nothing: every result was recorded');
      const rows = lines.filter((l) => / passed /.test(l) && l.startsWith('  app'));
      assert.equal(rows.length, 3);
      assert.ok(
        rows.slice(0, 2).every((l) => l.includes('[built in run one]')),
        rows.join('\n'),
      );
      assert.ok(rows[2].includes('[built in run two]'), rows[2]);
    });
  });

  it('builds a repository named by URL from the clone cache of this host, and lists only new commits next time', async () => {
    const config = isolatedConfig(env.address);
    const { dir, lines, ctx, settings, builds } = setup(config);
    const built = sharedFile(path.join(dir, 'built.txt'));
    const work = await initRepository(path.join(dir, 'work'));
    const one = await commitFiles(work, 'One', { '.batch-ci': `git rev-parse HEAD >> ${built}\n` });
    const bare = path.join(dir, 'remote.git');
    await git(dir, ['clone', '--bare', '--quiet', work, bare]);
    const url = `file://${bare}`;
    let two = '';
    await withCiWorkers(env, config, settings, async () => {
      await ciMergeFlow.run([url, '--run', 'by-url'], ctx);
      two = await commitFiles(work, 'Two', { 'n.txt': '2\n' });
      await git(work, ['push', '--quiet', bare, 'HEAD:refs/heads/main']);
      lines.length = 0;
      await ciMergeFlow.run([url, '--run', 'by-url-2'], ctx);
      assert.deepEqual(builtShas(built), [one, two], 'each commit built once, the second only in the second run');
    });
    assert.match(
      lines.find((l) => l.startsWith('ci-merge by-url-2'))!,
      /^ci-merge by-url-2: 1 commit from 1 repository/,
    );
    const record = await readBuildRecord(buildPaths(builds, two, undefined).record);
    assert.equal(record?.status, 'passed');
    assert.equal(record?.repo, 'remote', 'named after the URL');
    const caches = fs.readdirSync(path.join(ctx.dataDir, 'ci-merge', 'clones')).filter((f) => f.endsWith('.git'));
    assert.equal(caches.length, 1, 'one clone of the remote on this host');
  });

  it('two runs building the same commits at the same moment build each once (the second waits for the first)', async () => {
    const config = isolatedConfig(env.address);
    const { dir, lines, ctx, settings } = setup(config);
    const built = sharedFile(path.join(dir, 'built.txt'));
    // Slow enough that the two runs overlap on every commit.
    const command = `git rev-parse HEAD >> ${built} && sleep 1`;
    const repo = await initRepository(path.join(dir, 'app'));
    const shas = [
      await commitFiles(repo, 'One', { 'n.txt': '1\n' }),
      await commitFiles(repo, 'Two', { 'n.txt': '2\n' }),
    ];
    await withCiWorkers(env, config, settings, async () => {
      await Promise.all([
        ciMergeFlow.run([repo, '--command', command, '--run', 'left'], ctx),
        ciMergeFlow.run([repo, '--command', command, '--run', 'right'], ctx),
      ]);
    });
    assert.deepEqual(builtShas(built).sort(), [...shas].sort(), 'each commit built once');
    for (const run of ['left', 'right']) {
      const summary = lines.find((l) => l.startsWith(`ci-merge ${run}:`));
      assert.match(summary ?? lines.join('\n'), /2 commits from 1 repository.*: 2 passed, 0 failed/);
    }
    assert.deepEqual(
      fs.readdirSync(path.join(dir, 'data', 'ci-merge', 'builds')).filter((f) => f.endsWith('.lock')),
      [],
      'no lock left behind',
    );
  });

  it('interleaves a busy repository with a quiet one: the quiet one is not left until last', async () => {
    const config = isolatedConfig(env.address);
    const { dir, ctx, settings } = setup(config);
    const built = sharedFile(path.join(dir, 'built.txt'));
    const busy = await initRepository(path.join(dir, 'busy'));
    const quiet = await initRepository(path.join(dir, 'quiet'));
    for (let i = 1; i <= 8; i++) await commitFiles(busy, `busy ${i}`, { 'n.txt': `${i}\n` });
    const quietShas = [
      await commitFiles(quiet, 'quiet 1', { 'n.txt': '1\n' }),
      await commitFiles(quiet, 'quiet 2', { 'n.txt': '2\n' }),
    ];
    // One build at a time: the order builds run in is the order the server hands them out.
    await withCiWorkers(
      env,
      config,
      settings,
      () => ciMergeFlow.run([busy, quiet, '--command', `git rev-parse HEAD >> ${built}`], ctx),
      { maxConcurrentActivityTaskExecutions: 1 },
    );

    const order = builtShas(built);
    assert.equal(order.length, 10);
    const positions = quietShas.map((sha) => order.indexOf(sha));
    assert.ok(
      Math.max(...positions) <= 4,
      `both quiet commits among the first five of ten builds, not after the busy repository's; they were builds ${positions.map((p) => p + 1).join(' and ')}`,
    );
  });

  it('stops a build that runs too long and records it as failed (timed out)', async () => {
    const config = isolatedConfig(env.address);
    const { dir, lines, ctx, settings, builds } = setup(config);
    const repo = await initRepository(path.join(dir, 'slow'));
    const sha = await commitFiles(repo, 'Hang forever', { 'n.txt': '1\n' });
    const command = 'echo started; sleep 60';
    await withCiWorkers(env, config, settings, () =>
      ciMergeFlow.run([repo, '--command', command, '--timeout', '1', '--run', 'slow'], ctx),
    );
    const record = await readBuildRecord(buildPaths(builds, sha, commandIdOf(command)).record);
    assert.equal(record?.status, 'failed');
    assert.equal(record?.timedOut, true);
    assert.equal(record?.exitCode, null);
    assert.match(fs.readFileSync(record!.logPath, 'utf8'), /started\nTimed out after 1 s: the build was killed\./);
    assert.ok(
      lines.some((l) => l.includes('FAILED') && l.includes('Hang forever (timed out)')),
      lines.join('\n'),
    );
  });

  it('says what is wrong with a path that is not a git repository, is missing, or has no build command', async () => {
    const config = isolatedConfig(env.address);
    const { dir, ctx } = setup(config);
    const plain = path.join(dir, 'plain');
    fs.mkdirSync(plain);
    await assert.rejects(ciMergeFlow.run([plain], ctx), {
      message: `${plain} is not a git repository: pass the folder of a git clone (the one holding .git), or run \`git init\` there first.`,
    });
    await assert.rejects(
      ciMergeFlow.run([path.join(dir, 'nowhere')], ctx),
      /nowhere does not exist: pass the folders of local git repositories/,
    );
    const repo = await initRepository(path.join(dir, 'unconfigured'));
    await commitFiles(repo, 'No build command yet', { 'n.txt': '1\n' });
    await assert.rejects(
      ciMergeFlow.run([repo], ctx),
      /No \.batch-ci file at HEAD in .*unconfigured: commit one holding the build command .* or pass --command/,
    );
  });

  it('a commit that is not in its repository is a dead letter (InvalidInput), not retried', async () => {
    const config = isolatedConfig(env.address);
    const { dir, settings } = setup(config);
    const repo = await initRepository(path.join(dir, 'repo'));
    await commitFiles(repo, 'One', { 'n.txt': '1\n' });
    const missing = 'f'.repeat(40);
    const data: CommitToBuild = {
      repo,
      sha: missing,
      subject: 'Rewritten away',
      author: 'Someone',
      timeoutSeconds: 60,
    };
    const spec = loadPipelineSpecFile(path.join(__dirname, '..', 'pipelines', 'examples', 'ci-merge.yaml'));
    const result = await withCiWorkers(env, config, { ...settings, repositories: [repo] }, async () => {
      const handle = await startPipelineRun(
        env.client,
        config,
        spec,
        { items: [{ id: missing, origin: 'repo', data: { ...data } }] },
        { runName: 'gone' },
      );
      return handle.result();
    });
    assert.equal(result.deadLettered, 1);
    const [letter] = result.deadLetters;
    assert.equal(letter.error.type, 'InvalidInput');
    assert.equal(letter.attempts, 1);
    assert.equal(
      letter.error.message,
      `Commit ${missing} is not in ${repo} (history rewritten, or a wrong sha?): nothing to build.`,
    );
  });
});
