/**
 * The ci-merge flow against an API token holder and a hostile build (issue 11): item data cannot
 * make a worker run a command, build a repository the operator did not allow, or pick the builds
 * folder — neither through the API nor by starting the workflow directly; a build runs as an
 * unprivileged user (when the worker is root) without the worker's secrets; and nothing a build
 * starts outlives its timeout, not even a process that left its session holding stdout.
 * Real dev server, real git, real builds; a marker file proves whether a command ran.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { buildPaths, readBuildRecord } from '../src/activities/ci-merge/build-records';
import { maxTimeoutSeconds } from '../src/activities/ci-merge/build-requests';
import { commandIdOf } from '../src/activities/ci-merge/operator-grants';
import { runBuildCommand } from '../src/activities/ci-merge/run-build';
import { ciMergeFlow } from '../src/cli/flows/ci-merge';
import { commitFiles, initRepository } from '../src/cli/flows/ci-merge-demo-repos';
import type { FlowContext } from '../src/cli/flows/flow';
import { startPipelineRun } from '../src/client/pipeline-run';
import { loadPipelineSpecFile } from '../src/pipelines/load';
import type { PipelineItem } from '../src/pipelines/spec';
import { git } from '../src/infra/git';
import { repoRoot } from '../src/infra/paths';
import { TestApi } from './support/api';
import { ciTestSettings, withCiWorkers } from './support/ci-workers';
import { isolatedConfig } from './support/config';
import { sharedDevServer } from './support/servers';

const asRoot = process.getuid?.() === 0;
const specFile = path.join(repoRoot, 'pipelines', 'examples', 'ci-merge.yaml');

/** Processes whose command line contains `text` (e.g. a unique sleep duration). */
function processesWith(text: string): string[] {
  return fs
    .readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid) && pid !== String(process.pid))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(text);
      } catch {
        return false;
      }
    });
}

/** Secrets a worker has in its environment that no build may see. */
const secrets = {
  BATCH_API_TOKEN: 'secret-api-token-4711',
  BATCH_SMTP_PASSWORD: 'secret-smtp-password-4711',
  SMTP_PASSWORD: 'secret-smtp-4711',
  AWS_SECRET_ACCESS_KEY: 'secret-aws-4711',
  TEMPORAL_TLS_KEY: 'secret-temporal-4711',
};

describe('ci-merge sandbox: API token holders and hostile builds', function () {
  let env: TestWorkflowEnvironment;
  let tmp: string;
  /** A folder the build user may write to: a command that ran could leave its marker here. */
  let open: string;
  let marker: string;
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    env = await sharedDevServer();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-sandbox-test-'));
    fs.chmodSync(tmp, 0o755);
    open = path.join(tmp, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    marker = path.join(open, 'PWNED');
    for (const [name, value] of Object.entries({ ...secrets, BATCH_CI_REPOSITORIES: undefined })) {
      saved[name] = process.env[name];
      if (value !== undefined) process.env[name] = value;
    }
  });
  after(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A repository whose `.batch-ci` is `script`, in a folder of its own. */
  async function repository(name: string, script: string, files: Record<string, string> = {}) {
    const repo = await initRepository(path.join(tmp, name, 'repo'));
    const sha = await commitFiles(repo, `Build ${name}`, { '.batch-ci': script, ...files });
    return { repo, sha };
  }

  describe('through the API', () => {
    let api: TestApi;
    let allowed: { repo: string; sha: string };
    let other: { repo: string; sha: string };
    const pipeline = 'cisandbox-ci';

    before(async () => {
      // The allowed repository lives in a folder only root may enter (like /root): the build
      // user still reaches its checked-out files.
      allowed = await repository('allowed', 'id -u; env; cat hello.txt; grep NoNewPrivs /proc/self/status\n', {
        'hello.txt': 'hello from the worktree\n',
      });
      fs.chmodSync(path.dirname(allowed.repo), 0o700);
      other = await repository('other', `touch ${marker}\n`);
      process.env.BATCH_CI_REPOSITORIES = [allowed.repo, path.join(tmp, 'nowhere')].join(path.delimiter);
      api = new TestApi(env, 'cisandbox');
      const spec = fs.readFileSync(specFile, 'utf8').replace(/^name: ci-merge$/m, `name: ${pipeline}`);
      fs.writeFileSync(path.join(api.pipelinesDir, `${pipeline}.yaml`), spec);
      const subscriptions = fs.readFileSync(api.subscriptionsFile, 'utf8');
      fs.writeFileSync(
        api.subscriptionsFile,
        subscriptions.replace(/^topics:\n/m, `topics:\n  commits: { pipelines: [${pipeline}] }\n`),
      );
      await api.start();
    });
    after(async () => {
      await api?.stop();
      api?.cleanUp();
    });

    it('refuses commands, builds folders, repositories off the allowlist and overlong timeouts with a 400, and runs nothing', async () => {
      const settings = ciTestSettings(api.dataDir, [allowed.repo]);
      const item = (data: Record<string, unknown>) => ({ items: [{ id: 'c1', data }] });
      const hostile: [string, { items: PipelineItem[] } | { id: string; data: Record<string, unknown> }, RegExp][] = [
        [
          `/pipelines/${pipeline}/runs`,
          item({ ...allowed, command: `touch ${marker}` }),
          /^items\[0\]\.data\.command: a run started through the API or an event cannot carry a build command; each commit builds with its own \.batch-ci file .* Remove "command"\.$/,
        ],
        [
          `/pipelines/${pipeline}/runs`,
          item({ ...allowed, commandId: commandIdOf(`touch ${marker}`) }),
          /^items\[0\]\.data\.commandId: .*Remove "commandId"\.$/,
        ],
        [
          `/pipelines/${pipeline}/runs`,
          item({ ...allowed, buildsDir: open }),
          /^items\[0\]\.data\.buildsDir: where builds are recorded is the server's setting .* Remove "buildsDir"\.$/,
        ],
        [
          `/pipelines/${pipeline}/runs`,
          item({ ...other }),
          /^items\[0\]\.data\.repo ".*other\/repo" is not a repository this server builds\. The operator allows a repository by adding its top folder or its URL \(file:\/\/, https:\/\/, ssh:\/\/\) to BATCH_CI_REPOSITORIES/,
        ],
        [
          `/pipelines/${pipeline}/runs`,
          item({ ...allowed, repo: `${allowed.repo}/../../other/repo` }),
          /is not a repository this server builds/,
        ],
        [
          `/pipelines/${pipeline}/runs`,
          item({ ...allowed, timeoutSeconds: 30 * 24 * 3600 }),
          /^items\[0\]\.data: "timeoutSeconds" must be a whole number of seconds from 1 to 86400 \(a day\), not 2592000\.$/,
        ],
        [
          '/topics/commits/events',
          { id: 'e1', data: { ...other } },
          /^Event e1 on topic commits: data\.repo .* BATCH_CI_REPOSITORIES/,
        ],
        ['/topics/commits/events', { id: 'e2', data: { ...allowed, command: `touch ${marker}` } }, /data\.command/],
      ];
      await withCiWorkers(env, api.config, settings, async () => {
        for (const [route, body, message] of hostile) {
          const answer = await api.call('POST', route, { body });
          assert.equal(answer.status, 400, `${route} ${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`);
          assert.match(answer.body.message, message);
        }
        // The allowed repository builds (its own .batch-ci): the workers were there all along.
        const ok = await api.call('POST', `/pipelines/${pipeline}/runs`, {
          body: { run: 'ok', ...item({ ...allowed }) },
        });
        assert.equal(ok.status, 202, JSON.stringify(ok.body));
        const done = await api.finished(ok.body.status);
        assert.equal(done.body.status, 'COMPLETED', JSON.stringify(done.body));
      });
      assert.ok(!fs.existsSync(marker), 'no hostile command ran');
      for (const id of ['e1', 'e2']) {
        const runs = await api.call('GET', `/pipelines/${pipeline}/runs/event-${id}`);
        assert.equal(runs.status, 404, `event ${id} started no run`);
      }

      const record = await readBuildRecord(
        buildPaths(path.join(api.dataDir, 'ci-merge', 'builds'), allowed.sha, undefined).record,
      );
      assert.equal(record?.status, 'passed');
      const log = fs.readFileSync(record!.logPath, 'utf8');
      assert.match(log, /hello from the worktree/);
      const uid = Number(/^\$ id -u.*\n(\d+)$/m.exec(log)?.[1]);
      if (asRoot) {
        assert.notEqual(uid, 0, `the build ran as root:\n${log}`);
        assert.match(log, /^# Built as batch-build \(uid \d+\) in its own PID namespace/m);
        assert.match(log, /^NoNewPrivs:\s+1$/m, 'setuid programs cannot raise its privileges');
      } else assert.equal(uid, process.getuid!());
      for (const [name, value] of Object.entries(secrets)) {
        assert.ok(!log.includes(name) && !log.includes(value), `${name} reached the build:\n${log}`);
      }
      assert.doesNotMatch(log, /^(BATCH_|SMTP|AWS_|TEMPORAL)/m, 'no worker settings in the build environment');
      assert.match(log, /^CI=true$/m);
    });
  });

  describe('on the worker, whoever started the run', () => {
    it('refuses a command in item data, an unregistered command, a repository not allowed and an overlong timeout; ignores a buildsDir', async () => {
      const config = isolatedConfig(env.address);
      const dataDir = path.join(tmp, 'worker-data');
      const allowed = await repository('worker-allowed', 'echo built\n');
      const other = await repository('worker-other', `touch ${marker}\n`);
      const settings = ciTestSettings(dataDir, [allowed.repo]);
      const elsewhere = path.join(open, 'builds');
      const items: PipelineItem[] = [
        { id: 'command', data: { ...allowed, command: `touch ${marker}` } },
        { id: 'unregistered', data: { ...allowed, commandId: commandIdOf(`touch ${marker}`) } },
        { id: 'other', data: { ...other } },
        { id: 'forever', data: { ...allowed, timeoutSeconds: 30 * 24 * 3600 } },
        { id: 'builds-dir', data: { ...allowed, buildsDir: elsewhere } },
      ];
      const result = await withCiWorkers(env, config, settings, async () => {
        const handle = await startPipelineRun(
          env.client,
          config,
          loadPipelineSpecFile(specFile),
          { items },
          { runName: 'direct' },
        );
        return handle.result();
      });
      const letters = new Map(result.deadLetters.map((l) => [l.itemId, l]));
      assert.deepEqual([...letters.keys()].sort(), ['command', 'forever', 'other', 'unregistered']);
      for (const letter of letters.values()) {
        assert.equal(letter.error.type, 'InvalidInput');
        assert.equal(letter.attempts, 1);
      }
      assert.match(
        letters.get('command')!.error.message,
        /^Item command carries a build command in its data: refused\./,
      );
      assert.match(letters.get('unregistered')!.error.message, /which the operator never registered on this host/);
      assert.match(letters.get('other')!.error.message, /worker-other\/repo" is not a repository this server builds/);
      assert.match(
        letters.get('forever')!.error.message,
        new RegExp(`"timeoutSeconds" must be a whole number of seconds from 1 to ${maxTimeoutSeconds}`),
      );
      assert.ok(!fs.existsSync(marker), 'no hostile command ran');
      assert.ok(!fs.existsSync(elsewhere), 'the item did not choose where builds are recorded');
      const record = await readBuildRecord(
        buildPaths(path.join(dataDir, 'ci-merge', 'builds'), allowed.sha, undefined).record,
      );
      assert.equal(record?.status, 'passed');
    });

    it('refuses a timer it cannot keep: more than 2^31-1 ms would fire at once', async () => {
      assert.throws(
        () =>
          runBuildCommand('true', {
            cwd: tmp,
            timeoutMs: 25 * 24 * 3600 * 1000,
            signal: new AbortController().signal,
            sandbox: { home: tmp, pidNamespace: false },
          }),
        /A build timeout of 2160000000 ms cannot be waited for: it must be from 1 ms to 2147483647 ms/,
      );
    });
  });

  describe('nothing a build starts outlives it', () => {
    // As root: in a PID namespace, and with the fallback (process group and marker variable).
    const modes = asRoot ? (['auto', 'process-group'] as const) : (['auto'] as const);
    for (const containment of modes) {
      it(`a process that left the build's session holding stdout is killed at the timeout and when the build ends (${containment})`, async () => {
        const config = isolatedConfig(env.address);
        const dir = path.join(tmp, `escape-${containment}`);
        const workDir = path.join(dir, 'work');
        fs.mkdirSync(workDir, { recursive: true });
        fs.chmodSync(dir, 0o755);
        const hang = `600.${process.pid}${containment.length}1`;
        const leave = `600.${process.pid}${containment.length}2`;
        const repo = await initRepository(path.join(dir, 'repo'));
        const hanging = await commitFiles(repo, 'Hang past the timeout', {
          '.batch-ci': `echo started\nsetsid sleep ${hang} &\nsleep ${hang}\n`,
        });
        const leaving = await commitFiles(repo, 'Leave a process behind', {
          '.batch-ci': `echo started\nsetsid sleep ${leave} &\necho done\nid -u\n`,
        });
        const lines: string[] = [];
        const ctx: FlowContext = {
          client: env.client,
          config,
          dataDir: path.join(dir, 'data'),
          log: (l) => lines.push(l),
        };
        const settings = ciTestSettings(ctx.dataDir, [], { workDir, containment });
        await withCiWorkers(env, config, settings, () =>
          ciMergeFlow.run([repo, '--timeout', '2', '--run', `escape-${containment}`], ctx),
        );
        const builds = path.join(ctx.dataDir, 'ci-merge', 'builds');
        const timedOut = await readBuildRecord(buildPaths(builds, hanging, undefined).record);
        assert.equal(timedOut?.timedOut, true, lines.join('\n'));
        assert.equal(timedOut?.status, 'failed');
        // A hang detector, not a speed test: before the fix this build waited 600 s for its pipe.
        assert.ok(timedOut!.durationMs < 30_000, `the build ended ${timedOut!.durationMs} ms after it started`);
        assert.match(
          fs.readFileSync(timedOut!.logPath, 'utf8'),
          /started\nTimed out after 2 s: the build was killed\./,
        );
        const ended = await readBuildRecord(buildPaths(builds, leaving, undefined).record);
        assert.equal(ended?.status, 'passed');
        const endedLog = fs.readFileSync(ended!.logPath, 'utf8');
        assert.match(endedLog, /started\ndone\n\d+\nExit code 0/);
        if (asRoot) assert.notEqual(Number(/done\n(\d+)\n/.exec(endedLog)![1]), 0, `ran as root:\n${endedLog}`);

        assert.deepEqual(processesWith(hang), [], 'the process that escaped the timeout was killed');
        assert.deepEqual(processesWith(leave), [], 'the process left behind by a finished build was killed');
        assert.deepEqual(fs.readdirSync(workDir), [], 'no worktree box left');
        assert.deepEqual(
          fs.readdirSync(builds).filter((f) => f.endsWith('.lock')),
          [],
          'no lock left',
        );
        assert.equal((await git(repo, ['worktree', 'list', '--porcelain'])).match(/^worktree /gm)?.length, 1);
      });
    }

    it('a cancelled build is killed with everything it started', async () => {
      const sleeper = `600.${process.pid}3`;
      const home = path.join(tmp, 'cancel-home');
      fs.mkdirSync(home);
      const abort = new AbortController();
      const running = runBuildCommand(`setsid sleep ${sleeper} & sleep ${sleeper}`, {
        cwd: tmp,
        timeoutMs: 600_000,
        signal: abort.signal,
        graceMs: 500,
        sandbox: { home, pidNamespace: false },
      });
      const deadline = Date.now() + 10_000;
      // The shell and its two sleeps. Exactly three: while setsid forks, a fourth process briefly carries the text.
      let seen = 0;
      while ((seen = processesWith(sleeper).length) !== 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(seen, 3, 'the build and both its sleeps were running');
      abort.abort();
      const result = await running;
      assert.equal(result.timedOut, false);
      assert.equal(result.exitCode, null);
      assert.deepEqual(processesWith(sleeper), [], 'nothing left running');
    });
  });
});
