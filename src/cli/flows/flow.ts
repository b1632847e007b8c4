/**
 * A hands-on flow as the CLI and `npm start`'s demo see it: `npm run cli -- run <flow> <inputs>`
 * starts it on a person's inputs with a progress bar and a summary; `demo` runs it on generated
 * demo inputs and lists the outputs. Each flow lives in its own file beside this one.
 */
import type { Client } from '@temporalio/client';
import type { BatchConfig } from '../../infra/config';

export interface FlowContext {
  client: Client;
  config: BatchConfig;
  /** Where runtime state and outputs go (BATCH_DATA_DIR, default .data). */
  dataDir: string;
  /** Progress and status lines for a person. */
  log: (line: string) => void;
}

export interface CliFlow {
  /** The name after `run`, e.g. `transcode`. */
  name: string;
  /** Arguments after the name, for `--help`, e.g. `<video files...> [--run NAME]`. */
  usage: string;
  /** One line: what the flow does. */
  description: string;
  /** Parses the arguments after the flow's name, starts the run, shows progress, prints its summary. */
  run(args: string[], ctx: FlowContext): Promise<void>;
  /** Runs the flow on demo inputs it prepares under ctx.dataDir; returns summary lines that list the outputs. */
  demo(ctx: FlowContext, runName: string): Promise<string[]>;
}
