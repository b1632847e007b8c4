/**
 * Flow `signup` (issue 4 §2): new users' sign-up events, sharded by user ID, each get a
 * verification mail over real SMTP; the sign-up waits (days of workflow time) for the code; once
 * verified, a welcome mail and — for users who opted in — a notification by e-mail or SMS.
 *
 *   npm run cli -- run signup <events.jsonl> [--run NAME] [--wait]   (--help: every option)
 *   npm run cli -- verify <userId> <code>
 *
 * `run` starts one workflow per event and shows progress until every verification mail is out
 * (`--wait`: until nobody is waiting any more); the mails are in the mail catcher.
 */
import fs from 'node:fs';
import path from 'node:path';
import { smsSinkFile } from '../../activities/signup';
import {
  countSignups,
  SignupCounts,
  SignupOutcome,
  signupOutcome,
  startSignup,
  StartedSignup,
  verifySignup,
} from '../../client/signup';
import { workflowListUrl } from '../../infra/config';
import { bareMessageId, listCaughtMails } from '../../devstack/mail-inbox';
import { displayPath } from '../../infra/paths';
import { sleep } from '../../infra/wait';
import { readSignupEvents, UnusableEventLine } from '../../sources/signup-events';
import { signupWorkflowId } from '../../workflows/flows/signup';
import { codeInVerificationMail } from '../../core/signup-messages';
import { runNameOf, runNameOption } from '../command';
import { throughOutages } from '../temporal-outages';
import { defineFlow, type FlowContext } from './flow';
import { formatSignupLine, formatSignupProgress, formatVerifyOutcome } from './signup-summary';

interface Submission {
  run: string;
  started: StartedSignup[];
  duplicates: { userId: string; where: string }[];
  unusable: UnusableEventLine[];
}

/** Starts one sign-up per event of `file`; duplicates (same user) start nothing. */
async function submit(ctx: FlowContext, file: string, run: string): Promise<Submission> {
  const { events, unusable } = await readSignupEvents(file);
  const submission: Submission = { run, started: [], duplicates: [], unusable };
  for (const { event, where } of events) {
    const started = await startSignup(ctx.client, ctx.config, event, run);
    if (started.duplicate) submission.duplicates.push({ userId: event.userId, where });
    else submission.started.push(started);
  }
  const query = `BatchRun = "${run}"`;
  ctx.log(
    `Started ${submission.started.length} sign-up(s) of run ${run}` +
      (submission.duplicates.length ? `, ${submission.duplicates.length} duplicate(s) ignored` : '') +
      (unusable.length ? `, ${unusable.length} unusable line(s)` : '') +
      `. Web UI: ${workflowListUrl(ctx.config, query)}`,
  );
  return submission;
}

/**
 * Shows the progress line (on change) until every started sign-up has sent its verification mail
 * or failed — or, with `untilSettled`, until none is waiting for its code any more.
 */
async function watch(
  ctx: FlowContext,
  submission: Submission,
  untilSettled: boolean,
  timeoutMs = Infinity,
): Promise<SignupCounts> {
  const expected = submission.started.length;
  const deadline = Date.now() + timeoutMs;
  let shown = '';
  for (;;) {
    const counts = await countSignups(ctx.client, submission.run);
    const settled = untilSettled
      ? counts.verified + counts.expired + counts.locked + counts.failed
      : counts.sent + counts.failed;
    const line = formatSignupProgress(counts, expected, settled);
    if (line !== shown) (ctx.progress ?? ctx.log)((shown = line));
    const allSent = counts.sent + counts.failed >= expected;
    if (allSent && (!untilSettled || counts.waiting === 0)) return counts;
    if (Date.now() > deadline) {
      throw new Error(
        `Not every verification mail was sent within ${Math.round(timeoutMs / 1000)} s: is a worker serving the shard queues ` +
          `${ctx.config.signup.queue}-shard-0..${ctx.config.signup.shards - 1}, and is the SMTP server up? (npm start runs both.)`,
      );
    }
    await sleep(1000);
  }
}

interface Report {
  userId: string;
  outcome: SignupOutcome;
}

async function reports(submission: Submission): Promise<Report[]> {
  return Promise.all(
    submission.started.map(async (s) => ({ userId: s.userId, outcome: await signupOutcome(s.handle) })),
  );
}

/** One line per sign-up, then the duplicates and unusable lines. */
function signupLines(submission: Submission, all: Report[]): string[] {
  const width = Math.max(8, ...all.map((r) => r.userId.length));
  return [
    ...all.map((r) => formatSignupLine(r.userId, r.outcome, width)),
    ...submission.duplicates.map(
      (d) =>
        `  ${'duplicate'.padEnd(9)} ${d.userId.padEnd(width)}  ${d.where}: this user's sign-up exists already (${signupWorkflowId(d.userId)}); ignored`,
    ),
    ...submission.unusable.map((u) => `  ${'unusable'.padEnd(9)} ${u.where}: ${u.problem}`),
  ];
}

function headline(submission: Submission, all: Report[]): string {
  const events = submission.started.length + submission.duplicates.length + submission.unusable.length;
  const failed = all.filter((r) => r.outcome.kind === 'failed').length;
  return (
    `Sign-up run ${submission.run}: ${events} event(s), ${submission.started.length} started, ` +
    `${submission.duplicates.length} duplicate(s), ${failed + submission.unusable.length} rejected`
  );
}

/** The demo's users: three verified (e-mail, SMS, not opted in), one left waiting, one invalid, one duplicate. */
function demoEvents(run: string): object[] {
  const id = (name: string) => `${run}-${name}`;
  return [
    { userId: id('ada'), email: 'ada@example.com', name: 'Ada', optIn: true, preference: 'email' },
    { userId: id('bob'), email: 'bob@example.com', name: 'Bob', optIn: true, preference: 'sms', phone: '+15550100001' },
    { userId: id('chloe'), email: 'chloe@example.com', name: 'Chloe', optIn: false },
    { userId: id('erin'), email: 'erin-at-example.com', optIn: true, preference: 'fax' },
    { userId: id('ada'), email: 'ada@example.com', name: 'Ada', optIn: true, preference: 'email' },
    { userId: id('dan'), email: 'dan@example.com', name: 'Dan', optIn: true, preference: 'email' },
  ];
}

/**
 * Plays the users of waiting sign-ups: reads each verification mail from the mail catcher's REST
 * API and sends its code back, except for `leaveWaiting`. Returns the codes read, by user.
 */
async function playUsers(ctx: FlowContext, all: Report[], leaveWaiting: string): Promise<Map<string, string>> {
  const mails = await listCaughtMails(ctx.config.mail.uiUrl);
  const codes = new Map<string, string>();
  for (const { userId, outcome } of all) {
    if (outcome.kind !== 'status' || outcome.status.state !== 'waiting') continue;
    const messageId = bareMessageId(outcome.status.verification?.messageId ?? '');
    const mail = mails.find((m) => m.messageId === messageId);
    const code = mail && codeInVerificationMail(mail.text);
    if (!code)
      throw new Error(
        `The verification mail of ${userId} (${messageId}) is not in the mail catcher at ${ctx.config.mail.uiUrl}.`,
      );
    codes.set(userId, code);
    if (userId === leaveWaiting) continue;
    ctx.log(
      `${userId} enters the code ${code} from the mail to ${outcome.status.email}: ${formatVerifyOutcome(userId, await verifySignup(ctx.client, userId, code))}`,
    );
  }
  return codes;
}

/** The mails of these sign-ups as the mail catcher holds them (recipient, subject), and their SMS. */
async function deliveredLines(ctx: FlowContext, all: Report[]): Promise<string[]> {
  const statuses = all.flatMap((r) => (r.outcome.kind === 'status' ? [r.outcome.status] : []));
  const ours = new Set(
    statuses
      .flatMap((s) => [
        s.verification?.messageId,
        s.welcome?.messageId,
        s.notification?.channel === 'email' ? s.notification.delivery.messageId : undefined,
      ])
      .filter((id): id is string => id !== undefined)
      .map(bareMessageId),
  );
  const mails = (await listCaughtMails(ctx.config.mail.uiUrl)).filter((m) => ours.has(m.messageId));
  const sms = statuses.flatMap((s) => (s.notification?.channel === 'sms' ? [s.notification.delivery] : []));
  const sink = ctx.config.signup.smsWebhookUrl ?? displayPath(smsSinkFile(ctx.dataDir));
  return [
    `Mails delivered (${mails.length}; read them at ${ctx.config.mail.uiUrl}):`,
    ...mails.map((m) => `  ${m.to.join(', ').padEnd(20)} ${m.subject}`),
    `SMS sent (${sms.length}; ${ctx.config.signup.smsWebhookUrl ? 'webhook' : 'local sink'} ${sink}):`,
    ...sms.map((d) => `  ${d.to.padEnd(20)} ${d.text}`),
  ];
}

export const signupFlow = defineFlow({
  name: 'signup',
  description:
    'sign-up events sharded by user → verification mail over SMTP → wait days for the code → welcome mail + e-mail/SMS notifications',
  declare: (command) =>
    command
      .argument(
        '<events>',
        'a JSON-lines file of sign-up events ({"userId", "email", "name", "optIn", "preference", "phone"} per line)',
      )
      .addOption(runNameOption('signup', 'run name (search attribute BatchRun)'))
      .option(
        '--wait',
        'watch until no sign-up waits for its code any more (default: until every verification mail is out)',
      )
      .addHelpText(
        'after',
        '\nThe codes are in the mails (the mail catcher); enter one with: npm run cli -- verify <userId> <code>',
      ),
  options: (parsed) => {
    const opts = parsed.opts<{ run?: string; wait?: boolean }>();
    return { file: parsed.processedArgs[0] as string, runName: runNameOf(opts, 'signup'), wait: opts.wait === true };
  },
  async start({ file, runName, wait }, ctx) {
    const submission = await submit(ctx, file, runName);
    await watch(ctx, submission, wait);
    const all = await reports(submission);
    console.log(
      [
        '',
        headline(submission, all),
        ...signupLines(submission, all),
        `Mails:  ${ctx.config.mail.uiUrl} (the verification codes are in the mails)`,
        'Verify: npm run cli -- verify <userId> <code>',
        `Web UI: ${workflowListUrl(ctx.config, `BatchRun = "${runName}"`)}`,
      ].join('\n'),
    );
  },
  async demo(ctx, runName) {
    const run = `signup-${runName}`;
    const file = path.join(ctx.dataDir, 'signup', run, 'events.jsonl');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      demoEvents(run)
        .map((e) => JSON.stringify(e))
        .join('\n') + '\n',
    );
    const submission = await submit(ctx, file, run);
    await watch(ctx, submission, false, 120_000);
    const waiting = await reports(submission);
    const leaveWaiting = `${run}-dan`;
    const codes = await playUsers(ctx, waiting, leaveWaiting);
    // The verified sign-ups finish with their branches (welcome mail, notifications).
    await Promise.all(
      submission.started
        .filter((s) => codes.has(s.userId) && s.userId !== leaveWaiting)
        .map((s) => throughOutages(() => s.handle.result(), { log: ctx.log, probe: () => s.handle.describe() })),
    );
    const all = await reports(submission);
    return [
      headline(submission, all),
      ...signupLines(submission, all).map((l) => l.slice(2)),
      `Left waiting on purpose: npm run cli -- verify ${leaveWaiting} ${codes.get(leaveWaiting)}   (its code, from the mail)`,
      ...(await deliveredLines(ctx, all)),
      `Web UI: ${workflowListUrl(ctx.config, `BatchRun = "${run}"`)}`,
    ];
  },
});
