/**
 * Demo repositories of the ci-merge flow, made with real git: `alpha` (3 commits), `beta` (4
 * commits, the third breaks its test and the fourth fixes it) and `gamma`, a clone of alpha with
 * 2 commits of its own, so alpha's commits are in two repositories and must be built once. Each
 * commit carries its build command in `.batch-ci`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { git } from '../../infra/git';

/** Commit identity for generated repositories; never signs (a person's git config might ask to). */
const identity = ['-c', 'user.name=Batch Demo', '-c', 'user.email=demo@batch.invalid', '-c', 'commit.gpgsign=false'];

/** Creates an empty repository with a `main` branch. */
export async function initRepository(dir: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await git(dir, ['init', '--quiet', '--initial-branch=main']);
  return dir;
}

/** Writes `files` (path → content) into the repository and commits them; returns the new commit's sha. */
export async function commitFiles(repo: string, message: string, files: Record<string, string>): Promise<string> {
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(repo, name)), { recursive: true });
    await fs.writeFile(path.join(repo, name), content);
  }
  await git(repo, ['add', '--all']);
  await git(repo, [...identity, 'commit', '--quiet', '--message', message]);
  return (await git(repo, ['rev-parse', 'HEAD'])).trim();
}

const greetingTest = `#!/bin/sh
# The greeting must greet.
grep -q hello greeting.txt || { echo "greeting.txt does not say hello: $(cat greeting.txt)"; exit 1; }
echo "ok: $(cat greeting.txt)"
`;

const counterTest = `#!/bin/sh
# The counter must stay below 10.
count=$(cat count.txt)
echo "count is $count"
[ "$count" -lt 10 ] || { echo "FAIL: count $count is over the limit of 10"; exit 1; }
echo "ok"
`;

/** Creates alpha, beta and gamma under `dir` (which must not hold them yet); returns their paths. */
export async function createDemoRepositories(dir: string): Promise<string[]> {
  const alpha = await initRepository(path.join(dir, 'alpha'));
  await commitFiles(alpha, 'Add a greeting and its test', {
    '.batch-ci': 'sh test.sh\n',
    'test.sh': greetingTest,
    'greeting.txt': 'hello\n',
  });
  await commitFiles(alpha, 'Greet the world', { 'greeting.txt': 'hello, world\n' });
  await commitFiles(alpha, 'Greet the team', { 'greeting.txt': 'hello, team\n' });

  const beta = await initRepository(path.join(dir, 'beta'));
  await commitFiles(beta, 'Add a counter and its test', {
    '.batch-ci': 'sh test.sh\n',
    'test.sh': counterTest,
    'count.txt': '1\n',
  });
  await commitFiles(beta, 'Count to 3', { 'count.txt': '3\n' });
  await commitFiles(beta, 'Count to 12', { 'count.txt': '12\n' });
  await commitFiles(beta, 'Count back to 7', { 'count.txt': '7\n' });

  const gamma = path.join(dir, 'gamma');
  await git(dir, ['clone', '--quiet', alpha, gamma]);
  await commitFiles(gamma, 'Greet in French too', { 'greeting.txt': 'hello, bonjour\n' });
  await commitFiles(gamma, 'Greet in German too', { 'greeting.txt': 'hello, bonjour, hallo\n' });
  return [alpha, beta, gamma];
}
