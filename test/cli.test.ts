/**
 * The command lines as a person meets them, without Temporal: every command's `--help` lists its
 * arguments and options, mistakes (an unknown option or command, a missing argument, a bad
 * number or run name) are refused with exit 1 and a message that says what to type instead.
 * Most cases parse in this process (the same programs the entry points run); one runs the CLI as
 * its own process for the real exit code and stderr.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Command, CommanderError } from 'commander';
import { apiProgram } from '../src/cli/api';
import { clusterProgram } from '../src/cli/cluster';
import { flows } from '../src/cli/flows';
import { ciMergeFlow } from '../src/cli/flows/ci-merge';
import { formatSignupProgress } from '../src/cli/flows/signup-summary';
import { formatPipelineProgress } from '../src/cli/pipeline-progress';
import { terminalProgress } from '../src/cli/progress';
import { cliProgram } from '../src/cli/program';
import { startProgram } from '../src/cli/start';
import { repoRoot } from '../src/infra/paths';

interface Outcome {
  code: number;
  out: string;
  err: string;
}

/** Parses `args` with `program` here, as its entry point would: what it wrote, and the exit code it would end with. */
async function parse(program: Command, args: string[]): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  let code = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    code = error instanceof CommanderError ? error.exitCode : 1;
    if (!(error instanceof CommanderError)) err.push((error as Error).message);
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
  return { code, out: out.join(''), err: err.join('') };
}

/** `--help` of a command: exit 0, and each of `wanted` in the text. */
async function assertHelp(program: Command, args: string[], wanted: string[]): Promise<string> {
  const { code, out } = await parse(program, [...args, '--help']);
  assert.equal(code, 0, out);
  for (const w of wanted) assert.ok(out.includes(w), `"${args.join(' ')} --help" lists ${w}:\n${out}`);
  return out;
}

/** A refused command line: exit 1, and stderr matches. */
async function assertRefused(program: Command, args: string[], message: RegExp): Promise<void> {
  const { code, err, out } = await parse(program, args);
  assert.equal(code, 1, `${args.join(' ')}: ${out}${err}`);
  assert.match(err, message);
}

describe('command lines', function () {
  describe('npm run cli --', () => {
    it('--help lists every command', async () => {
      const out = await assertHelp(cliProgram(), [], ['Usage: npm run cli --', 'TEMPORAL_ADDRESS']);
      for (const command of [
        'run ',
        'watch <workflowId>',
        'dlq',
        'examples',
        'verify <userId> <code>',
        'status',
        'retired',
        'kafka',
      ])
        assert.ok(out.includes(command), `${command} in:\n${out}`);
    });

    it('--help of each command lists its arguments and options', async () => {
      const run = await assertHelp(
        cliProgram(),
        ['run'],
        ['<pipeline>', '--generate <count>', '--items <uri>', '--run <name>', '--wait'],
      );
      for (const flow of flows)
        assert.match(run, new RegExp(`^  ${flow.name} `, 'm'), `flow ${flow.name} in run --help`);
      await assertHelp(cliProgram(), ['watch'], ['workflowId']);
      await assertHelp(cliProgram(), ['dlq'], ['list <workflowId>', 'redrive <workflowId>']);
      await assertHelp(cliProgram(), ['dlq', 'list'], ['Usage: npm run cli -- dlq list [options] <workflowId>']);
      await assertHelp(cliProgram(), ['dlq', 'redrive'], ['lower priority']);
      await assertHelp(cliProgram(), ['verify'], ['userId', 'code']);
      await assertHelp(cliProgram(), ['status'], ['--config <file>']);
      await assertHelp(cliProgram(), ['kafka'], ['broker', 'rescan']);
      await assertHelp(cliProgram(), ['kafka', 'broker'], ['BATCH_KAFKA_PORT']);
      await assertHelp(cliProgram(), ['kafka', 'rescan'], ['uploads bucket']);
    });

    it("run <flow> --help lists the flow's arguments and options, for every flow", async () => {
      const options: Record<string, string[]> = {
        thumbnailer: ['<videos...>', '--concurrency <n>', '(default: 4)', '--run <name>'],
        transcode: ['<videos...>', '--run <name>'],
        signup: ['<events>', '--run <name>', '--wait', 'verify <userId> <code>'],
        'image-tagging': ['[images...]', '--tag <tag>', 'landscape', '--items <uri>', '--run <name>'],
        'ci-merge': ['<repos...>', '--command <cmd>', '--all', '--timeout <seconds>', '(default: 600)', '--run <name>'],
      };
      assert.deepEqual(flows.map((f) => f.name).sort(), Object.keys(options).sort(), 'a test case per flow');
      for (const flow of flows) {
        await assertHelp(
          cliProgram(),
          ['run', flow.name],
          [`Usage: npm run cli -- run ${flow.name} [options]`, ...options[flow.name]],
        );
      }
    });

    it('refuses unknown options and commands with a suggestion', async () => {
      await assertRefused(
        cliProgram(),
        ['run', 'tagging-report', '--generate', '5', '--wiat'],
        /unknown option '--wiat'\n\(Did you mean --wait\?\)/,
      );
      await assertRefused(cliProgram(), ['rn', 'x'], /unknown command 'rn'\n\(Did you mean run\?\)/);
      await assertRefused(cliProgram(), ['dlq', 'lst', 'a/b'], /unknown command 'lst'\n\(Did you mean list\?\)/);
      await assertRefused(cliProgram(), ['run', 'ci-merge', 'repo', '--comand', 'make'], /Did you mean --command\?/);
      await assertRefused(
        cliProgram(),
        ['run', 'transcod', 'a.mp4'],
        /No pipeline spec "transcod" \(did you mean transcode\?\)/,
      );
    });

    it('names a missing argument and what to pass', async () => {
      await assertRefused(cliProgram(), ['run'], /missing required argument 'pipeline'\. Pass a spec file/);
      await assertRefused(
        cliProgram(),
        ['run', 'signup'],
        /missing required argument 'events'\. Pass a JSON-lines file of sign-up events/,
      );
      await assertRefused(
        cliProgram(),
        ['run', 'transcode'],
        /missing required argument 'videos'\. .*run transcode --help/,
      );
      await assertRefused(cliProgram(), ['verify', 'u-ada'], /missing required argument 'code'/);
      await assertRefused(cliProgram(), ['watch'], /missing required argument 'workflowId'/);
      await assertRefused(
        cliProgram(),
        ['run', 'image-tagging', '--tag', 'red'],
        /Pass a folder of images or image files/,
      );
      await assertRefused(cliProgram(), ['run', 'tagging-report'], /run needs items: a JSON-lines file .*--generate N/);
      await assertRefused(cliProgram(), ['status', '--config'], /option '--config <file>' argument missing/);
    });

    it('refuses numbers and names out of range, saying which', async () => {
      await assertRefused(
        cliProgram(),
        ['run', 'tagging-report', '--generate', '0'],
        /'--generate <count>' argument '0' is invalid\. Expected a whole number ≥ 1\./,
      );
      await assertRefused(cliProgram(), ['run', 'tagging-report', '--generate', '2.5'], /Expected a whole number ≥ 1/);
      await assertRefused(
        cliProgram(),
        ['run', 'ci-merge', 'repo', '--timeout', '3001'],
        /Expected a whole number from 1 to 3000/,
      );
      await assertRefused(
        cliProgram(),
        ['run', 'transcode', 'a.mp4', '--run', 'a/b'],
        /--run needs a name of letters, digits/,
      );
      await assertRefused(
        cliProgram(),
        ['run', 'image-tagging', 'photos/', '--tag', 'landscpe'],
        /did you mean "landscape"\?/,
      );
      await assertRefused(cliProgram(), ['run', 'signup', 'a.jsonl', 'b.jsonl'], /too many arguments for 'signup'/);
    });

    it('as its own process: exit 1 and the suggestion on stderr; no command prints the help with exit 0', () => {
      const cli = (...args: string[]) =>
        spawnSync(process.execPath, ['--require', 'tsx/cjs', 'src/cli/main.ts', ...args], {
          cwd: repoRoot,
          encoding: 'utf8',
        });
      const typo = cli('run', 'tagging-report', '--generate', '5', '--wiat');
      assert.equal(typo.status, 1, typo.stderr);
      assert.match(typo.stderr, /Did you mean --wait\?/);
      const bare = cli();
      assert.equal(bare.status, 0, bare.stderr);
      assert.match(bare.stdout, /Usage: npm run cli -- \[options\] \[command\]/);
    });
  });

  describe('a flow parsed from words (scripts and tests call flow.run(args, ctx))', () => {
    it('gives typed options, defaults included, and throws a mistake with what to fix', () => {
      assert.deepEqual(ciMergeFlow.parse(['app', 'lib', '--all', '--timeout', '5', '--run', 'r1']), {
        repos: ['app', 'lib'],
        command: undefined,
        all: true,
        timeoutSeconds: 5,
        runName: 'r1',
      });
      const defaults = ciMergeFlow.parse(['app']);
      assert.equal(defaults.timeoutSeconds, 600);
      assert.match(defaults.runName, /^ci-\d{8}-\d{6}$/);
      assert.throws(() => ciMergeFlow.parse(['app', '--timeout', '0']), /Expected a whole number from 1 to 3000/);
      assert.throws(() => ciMergeFlow.parse(['app', '--al']), /unknown option '--al'\n\(Did you mean --all\?\)/);
      assert.throws(
        () => ciMergeFlow.parse([]),
        /missing required argument 'repos'\. Pass the folders of local git repositories/,
      );
    });
  });

  describe('npm start --, npm run cluster --, npm run api --', () => {
    it('--help lists their options', async () => {
      await assertHelp(
        startProgram(),
        [],
        [
          'Usage: npm start -- [options] [inputs...]',
          '--once',
          '--no-flows',
          '--cluster',
          '--s3',
          '--kafka',
          '--concurrency <n>',
          '--run <name>',
          'BATCH_DATA_DIR',
        ],
      );
      await assertHelp(
        clusterProgram(),
        [],
        ['Usage: npm run cluster -- [options]', '--s3', '--kafka', 'BATCH_CLUSTER_PORT_OFFSET'],
      );
      await assertHelp(apiProgram(), [], ['Usage: npm run api -- [options]', '--kafka', 'BATCH_API_PORT']);
    });

    it('refuse unknown options with a suggestion and bad numbers, before starting anything', async () => {
      await assertRefused(startProgram(), ['--onse'], /unknown option '--onse'\n\(Did you mean --once\?\)/);
      await assertRefused(
        startProgram(),
        ['--concurrency', 'x'],
        /'--concurrency <n>' argument 'x' is invalid\. Expected a whole number ≥ 1\./,
      );
      await assertRefused(startProgram(), ['--run', 'a b'], /--run needs a name/);
      await assertRefused(clusterProgram(), ['--s4'], /Did you mean --s3\?/);
      await assertRefused(clusterProgram(), ['extra'], /too many arguments/);
      await assertRefused(apiProgram(), ['--kafak'], /Did you mean --kafka\?/);
    });
  });

  describe('progress', () => {
    it('one line format for pipeline runs and sign-ups: bar, count, details', () => {
      const pipeline = formatPipelineProgress({
        total: 16,
        done: 4,
        completed: 3,
        dropped: 0,
        deadLettered: 1,
        running: 3,
        partitions: { total: 2, done: 0, running: 2 },
        stages: {},
      });
      assert.equal(pipeline, '[######------------------] 4/16 done · 3 in flight · 1 dead-lettered · partitions 0/2');
      const counts = { total: 5, sent: 4, verified: 1, waiting: 3, expired: 0, locked: 0, failed: 1 };
      assert.equal(
        formatSignupProgress(counts, 5, 5),
        '[########################] 5/5 · 4 sent · 1 verified · 3 waiting · 0 expired · 1 failed',
      );
    });

    it('on a terminal rewrites one line, and other lines start below it', () => {
      const written: string[] = [];
      const terminal = { isTTY: true, write: (s: string) => written.push(s) > 0 } as unknown as NodeJS.WriteStream;
      const print = console.log;
      console.log = (line: string) => written.push(`${line}\n`);
      try {
        const view = terminalProgress(terminal);
        view.show('[#---] 1/4 done');
        view.show('[##--] 2/4 done');
        view.log('Waiting for Temporal...');
        view.show('[####] 4/4 done');
        view.end();
      } finally {
        console.log = print;
      }
      assert.equal(
        written.join(''),
        '\r[#---] 1/4 done\x1b[K\r[##--] 2/4 done\x1b[K\nWaiting for Temporal...\n\r[####] 4/4 done\x1b[K\n',
      );
    });
  });
});
