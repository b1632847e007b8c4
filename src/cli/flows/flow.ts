/**
 * A hands-on flow as the CLI and `npm start`'s demo see it: `npm run cli -- run <flow> <inputs>`
 * starts it on a person's inputs with a progress bar and a summary; `demo` runs it on generated
 * demo inputs and lists the outputs. Each flow lives in its own file beside this one and declares
 * its arguments and options on a commander command (which parses them and writes its `--help`).
 */
import type { Client } from '@temporalio/client';
import type { BatchConfig } from '../../infra/config';
import { CliCommand, parseWords } from '../command';

export interface FlowContext {
  client: Client;
  config: BatchConfig;
  /** Where runtime state and outputs go (BATCH_DATA_DIR, default .data). */
  dataDir: string;
  /** Status lines and summaries for a person. */
  log: (line: string) => void;
  /** Progress lines (src/cli/progress.ts), e.g. one line rewritten on a terminal; default `log`. */
  progress?: (line: string) => void;
}

export interface CliFlow {
  /** The name after `run`, e.g. `transcode`. */
  name: string;
  /** One line: what the flow does. */
  description: string;
  /** `run <name>` with the flow's arguments and options, without an action. */
  command(): CliCommand;
  /**
   * Checks what `command()` parsed (a mistake is thrown before anything connects) and returns the
   * run: it starts the flow, shows progress and prints the summary.
   */
  prepare(parsed: CliCommand): (ctx: FlowContext) => Promise<void>;
  /** The same from the words after `run <name>` (scripts, tests); a usage mistake is thrown. */
  run(args: string[], ctx: FlowContext): Promise<void>;
  /** Runs the flow on demo inputs it prepares under ctx.dataDir; returns summary lines that list the outputs. */
  demo(ctx: FlowContext, runName: string): Promise<string[]>;
}

/** How a flow file describes itself: its command line, the options it reads from it, what it runs. */
export interface FlowDefinition<O> {
  name: string;
  description: string;
  /** Adds the flow's arguments and options to its (named, described) command. */
  declare(command: CliCommand): CliCommand;
  /** The flow's options from the parsed command (commander's processed arguments and opts()). */
  options(parsed: CliCommand): O;
  /** Starts the run on the options, shows progress, prints the summary. */
  start(options: O, ctx: FlowContext): Promise<void>;
  demo(ctx: FlowContext, runName: string): Promise<string[]>;
}

/** A flow with parsing done by commander: `parse(words)` for callers that hold the words. */
export function defineFlow<O>(def: FlowDefinition<O>): CliFlow & { parse(args: string[]): O } {
  const command = () => def.declare(new CliCommand(def.name).description(def.description));
  const parse = (args: string[]) => def.options(parseWords(command(), args));
  return {
    name: def.name,
    description: def.description,
    command,
    parse,
    prepare: (parsed) => {
      const options = def.options(parsed);
      return (ctx) => def.start(options, ctx);
    },
    run: (args, ctx) => def.start(parse(args), ctx),
    demo: def.demo,
  };
}
