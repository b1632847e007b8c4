/**
 * The sign-up flow as a person meets it, on the dev server with real SMTP into a maildev:
 * `run signup <events.jsonl>` (progress, then one line per user and the mail catcher link), the
 * `npm start` demo (it plays the users from the mails) and `verify` for the user it left waiting.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { verifySignup } from '../src/client/signup';
import { signupFlow } from '../src/cli/flows/signup';
import type { FlowContext } from '../src/cli/flows/flow';
import type { MailCatcher } from '../src/devstack/mail-catcher';
import { repoRoot } from '../src/infra/paths';
import { signupWorkflowId } from '../src/workflows/flows/signup';
import { sharedDevServer } from './support/servers';
import { signupConfig, signupDataDir, startTestMailCatcher, withSignupWorkers } from './support/signup';

describe('sign-up flow from the CLI (dev server, real SMTP)', function () {
  let env: TestWorkflowEnvironment;
  let catcher: MailCatcher;

  before(async () => {
    [env, catcher] = await Promise.all([sharedDevServer(), startTestMailCatcher('signup-cli')]);
  });
  after(async () => {
    await catcher?.stop();
  });

  function context(config: ReturnType<typeof signupConfig>, dataDir: string, log: string[]): FlowContext {
    return { client: env.client, config, dataDir, log: (line) => log.push(line) };
  }

  it('run signup: starts one sign-up per event and lists each with its state, rejects and duplicates', async () => {
    const config = signupConfig(env.address, catcher);
    const dataDir = signupDataDir('signup-cli-run');
    const log: string[] = [];
    const printed: string[] = [];
    const print = console.log;
    await withSignupWorkers(env, config, dataDir, async () => {
      console.log = (line: string) => printed.push(line);
      try {
        const events = path.join(repoRoot, 'pipelines', 'items', 'signup-events.jsonl');
        await signupFlow.run([events, '--run', 'cli-sample'], context(config, dataDir, log));
      } finally {
        console.log = print;
      }
    });
    assert.ok(
      log.some((l) => /^\[#+\] 5\/5 · 4 sent · 0 verified · 4 waiting · 0 expired · 1 failed$/.test(l)),
      log.join('\n'),
    );
    const summary = printed.join('\n');
    assert.match(summary, /Sign-up run cli-sample: 7 event\(s\), 5 started, 1 duplicate\(s\), 2 rejected/);
    for (const user of ['u-ada', 'u-bob', 'u-chloe', 'u-dan']) {
      assert.match(
        summary,
        new RegExp(`waiting +${user} +shard \\d  code sent to ${user.slice(2)}@example.com, valid until`),
      );
    }
    assert.match(
      summary,
      /FAILED +u-erin +\[InvalidInput\] .*email "erin-at-example.com" is not an e-mail address.*preference "fax" is unknown/,
    );
    assert.match(
      summary,
      /duplicate u-ada +.*signup-events.jsonl:8: this user's sign-up exists already \(signup\/u-ada\); ignored/,
    );
    assert.match(summary, /unusable +.*signup-events.jsonl:9: missing "userId"/);
    assert.match(summary, new RegExp(`Mails: +${catcher.webUrl}`));
  });

  it('demo: verifies all users but one from their mails and lists the mails and SMS delivered; verify finishes the last', async () => {
    const config = signupConfig(env.address, catcher);
    const dataDir = signupDataDir('signup-cli-demo');
    const log: string[] = [];
    await withSignupWorkers(env, config, dataDir, async () => {
      const lines = await signupFlow.demo(context(config, dataDir, log), `t${process.pid}`);
      const text = lines.join('\n');
      const user = (name: string) => `signup-t${process.pid}-${name}`;
      assert.match(text, /6 event\(s\), 5 started, 1 duplicate\(s\), 1 rejected/);
      assert.match(text, new RegExp(`verified +${user('ada')} .*welcome mail sent, notifications by e-mail`));
      assert.match(text, new RegExp(`verified +${user('bob')} .*notifications by SMS to \\+15550100001`));
      assert.match(text, new RegExp(`verified +${user('chloe')} .*no notifications \\(not opted in\\)`));
      assert.match(text, new RegExp(`waiting +${user('dan')} .*code sent to dan@example.com, valid until`));
      assert.match(text, new RegExp(`FAILED +${user('erin')} +\\[InvalidInput\\]`));
      assert.match(text, new RegExp(`duplicate ${user('ada')} `));

      // Every mail the flow sent, as the mail catcher holds it: recipient and subject.
      const mails = lines.slice(lines.findIndex((l) => l.startsWith('Mails delivered')) + 1);
      const delivered = mails
        .slice(
          0,
          mails.findIndex((l) => l.startsWith('SMS sent')),
        )
        .map((l) => l.trim().split(/\s+/)[0]);
      assert.deepEqual(delivered.sort(), [
        'ada@example.com',
        'ada@example.com',
        'ada@example.com',
        'bob@example.com',
        'bob@example.com',
        'chloe@example.com',
        'chloe@example.com',
        'dan@example.com',
      ]);
      assert.match(text, /Mails delivered \(8; read them at http:\/\/localhost:\d+\)/);
      assert.match(text, /SMS sent \(1; local sink .*outbox.jsonl\):\n +\+15550100001 +Hi Bob, notifications are on/);

      // The user left waiting verifies with the code the demo printed.
      const [, code] = /verify \S+ (\S+)/.exec(lines.find((l) => l.startsWith('Left waiting'))!)!;
      assert.equal((await verifySignup(env.client, user('dan'), code)).kind, 'verified');
      const result = await env.client.workflow.getHandle(signupWorkflowId(user('dan'))).result();
      assert.equal(result.state, 'done');
    });
  });
});
