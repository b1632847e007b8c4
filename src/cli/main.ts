/**
 * The command line: `npm run cli -- <command>`; `--help` on any command lists its arguments and
 * options (the commands: src/cli/program.ts).
 */
import { runProgram } from './command';
import { cliProgram } from './program';

// No command: the help, as a successful answer (commander's own treats it as a mistake).
runProgram(cliProgram(), { args: process.argv.length <= 2 ? ['--help'] : undefined });
