/**
 * What every command line of the project shares, on commander: a command that refuses unknown
 * options and commands with a suggestion ("Did you mean --wait?"), names a missing argument with
 * what to pass, validates numbers and run names, and an entry point that turns errors into exit 1.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { checkedRunName, timestampedRunName } from '../core/run-name';

/** A command whose subcommands are of the same kind; its parse errors say what to pass. */
export class CliCommand extends Command {
  constructor(name?: string) {
    super(name);
    this.showSuggestionAfterError().exitOverride();
  }

  override createCommand(name?: string): CliCommand {
    return new CliCommand(name);
  }

  /** Commander's hook for a required argument left out: name it, and what it takes (its description). */
  missingArgument(name: string): never {
    const argument = this.registeredArguments.find((a) => a.name() === name);
    const what = argument?.description ? `. Pass ${argument.description}` : '';
    this.error(`error: missing required argument '${name}'${what}. See: ${this.commandPath()} --help`, {
      code: 'commander.missingArgument',
    });
  }

  /** How a person types this command, e.g. `npm run cli -- run transcode`. */
  commandPath(): string {
    const names: string[] = [];
    for (let c: Command | null = this; c; c = c.parent) names.unshift(c.name());
    return names.join(' ');
  }
}

/** An argument parser for a whole number in [min, max]: `--generate 0` or `--concurrency x` is refused with the range. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`Expected a whole number ${range}.`);
    }
    return n;
  };
}

/** `--run NAME` with a default of `<prefix>-<timestamp>`; a name that cannot be a workflow ID part is refused. */
export function runNameOption(prefix: string, what = 'run name'): Option {
  return new Option('--run <name>', `${what} (default: ${prefix}-<timestamp>)`)
    .default(undefined)
    .argParser((value: string) => {
      try {
        return checkedRunName(value);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
    });
}

/** The run name given with `--run`, or a fresh `<prefix>-<timestamp>`. */
export function runNameOf(opts: { run?: string }, prefix: string): string {
  return opts.run ?? timestampedRunName(prefix);
}

/**
 * Parses `words` with `command` (the words after its name) without printing or exiting: a
 * mistake is thrown as an Error with commander's message, for callers that are not a terminal.
 */
export function parseWords<C extends Command>(command: C, words: string[]): C {
  command.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  try {
    return command.parse(words, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw new Error(error.message.replace(/^error: /, ''));
    throw error;
  }
}

export interface ProgramOptions {
  /** Before an error's message, e.g. `[start] `. */
  prefix?: string;
  /** Exit once the command's action is done (default); false for commands that stay up until Ctrl-C. */
  exitWhenDone?: boolean;
  /** Before exiting on an error, e.g. stopping the processes started so far. */
  cleanup?: () => Promise<void>;
  /** The words to parse instead of the process's arguments. */
  args?: string[];
}

/**
 * Runs a program on the process's arguments: exit 0 after `--help` or (unless it stays up) when
 * done, 1 on an error — which commander has printed already (a usage mistake: unknown option or
 * command with a suggestion, missing argument, bad number) or which is printed here.
 */
export function runProgram(program: Command, options: ProgramOptions = {}): void {
  const { prefix = '', exitWhenDone = true, cleanup = async () => undefined, args = process.argv.slice(2) } = options;
  // `npm run cli -- --help | head`: a reader that stopped reading is no error of the command.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  program.parseAsync(args, { from: 'user' }).then(
    // Exit once the command is done: a progress query still in the client's retry timer would
    // otherwise fire on the closed connection ("Channel has been shut down") and fail a finished run.
    () => {
      if (exitWhenDone) process.exit(Number(process.exitCode ?? 0));
    },
    async (error: unknown) => {
      if (!(error instanceof CommanderError))
        console.error(`${prefix}${error instanceof Error ? error.message : String(error)}`);
      await cleanup();
      process.exit(error instanceof CommanderError ? error.exitCode : 1);
    },
  );
}
