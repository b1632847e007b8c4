/**
 * A build's temporary worktree when its worker is killed: the killed process cannot clean up,
 * so the next build on the host removes worktrees whose owner process is gone — and only those.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeOrphanWorktrees, withWorktree } from '../src/activities/ci-merge/worktree';
import { commitFiles, initRepository } from '../src/cli/flows/ci-merge-demo-repos';
import { git } from '../src/infra/git';
import { repoRoot } from '../src/infra/paths';
import { waitFor } from '../src/infra/wait';

const worktreesOf = async (repo: string) =>
  ((await git(repo, ['worktree', 'list', '--porcelain'])).match(/^worktree (.*)$/gm) ?? []).map((l) => l.slice(9));

describe('ci-merge build worktrees after a killed worker', function () {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-worktree-test-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('removes the worktree of a SIGKILLed build at the next build, and keeps those of live builds', async () => {
    const repo = await initRepository(path.join(tmp, 'repo'));
    const sha = await commitFiles(repo, 'First', { 'a.txt': 'a\n' });
    const workDir = path.join(tmp, 'work');

    // A build process that is inside its worktree when it is killed.
    const script = `require('./src/activities/ci-merge/worktree').withWorktree(${JSON.stringify(repo)}, ${JSON.stringify(sha)}, { workDir: ${JSON.stringify(workDir)} }, (box) => { console.log('inside ' + box.src); return new Promise(() => setInterval(() => {}, 1000)); })`;
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: repoRoot });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor('the build to be inside its worktree', async () => output.includes('inside '), 30_000, 50);
    const orphan = /inside (.*)/.exec(output)![1].trim();
    assert.equal(child.exitCode, null, 'the build was still running when killed');
    child.kill('SIGKILL');
    await exited;
    assert.ok(fs.existsSync(orphan), 'the killed build left its worktree');
    assert.equal((await worktreesOf(repo)).length, 2);

    // A live build in this process keeps its worktree while the orphan goes.
    await withWorktree(repo, sha, { workDir }, async (live) => {
      assert.ok(!fs.existsSync(path.dirname(orphan)), 'the orphan was removed before the new build started');
      assert.deepEqual(await removeOrphanWorktrees(workDir), [], 'a live build is not an orphan');
      assert.ok(fs.existsSync(path.join(live.src, 'a.txt')));
      assert.equal((await worktreesOf(repo)).length, 2, 'the repository and the live build');
    });
    assert.deepEqual((await worktreesOf(repo)).length, 1, 'only the repository itself');
    assert.deepEqual(fs.readdirSync(workDir), [], 'no box and no owner file left');
  });
});
