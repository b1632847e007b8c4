/**
 * The commands of `npm run cli --` (src/cli/main.ts runs them), each with its arguments, options
 * and generated `--help`. Runs go to TEMPORAL_ADDRESS, or to the embedded stack `npm start` keeps
 * up (127.0.0.1:7233).
 */
import { formatRetiredReport, runningRetiredWorkflows } from '../client/retired-workflows';
import { verifySignup } from '../client/signup';
import { loadConfig } from '../infra/config';
import { dataDir } from '../infra/paths';
import { loadPipelineCatalog } from '../pipelines/catalog';
import type { pipelineRun } from '../workflows/pipeline';
import { autoscalerStatusReport } from './autoscaler-status';
import { CliCommand } from './command';
import { dlqCommand } from './dead-letters';
import { flows } from './flows';
import { formatVerifyOutcome } from './flows/signup-summary';
import { followPipelineRun } from './follow-run';
import { kafkaCommand } from './kafka';
import { terminalProgress } from './progress';
import { pipelineRunCommand } from './run-pipeline';
import { withTemporal } from './with-temporal';

/** A fresh program (commander keeps what it parsed): `npm run cli --` and every command under it. */
export function cliProgram(): CliCommand {
  const program = new CliCommand('npm run cli --')
    .description('Runs flows and pipelines on Temporal, follows them, and handles their dead letters.')
    .enablePositionalOptions()
    .addHelpText(
      'after',
      '\nEnvironment: TEMPORAL_ADDRESS (default: the embedded stack of npm start at 127.0.0.1:7233), TEMPORAL_NAMESPACE.',
    );

  const run = pipelineRunCommand().commandsGroup('Hands-on flows (run <flow> --help: its arguments and options):');
  program.addCommand(run);
  for (const flow of flows) {
    const command = flow.command();
    run.addCommand(
      command.action(() => {
        const start = flow.prepare(command);
        return withTemporal((client) => {
          const view = terminalProgress();
          const ctx = { client, config: loadConfig(), dataDir, log: view.log, progress: view.show };
          return start(ctx).finally(view.end);
        });
      }),
    );
  }

  program
    .command('watch')
    .description(
      're-attach to a pipeline run (e.g. after a CLI gave up waiting for Temporal): live progress bar, then the summary',
    )
    .argument('<workflowId>', "the run's workflow ID, <pipeline>/<run>")
    .action((workflowId: string) =>
      withTemporal(async (client) => {
        const handle = client.workflow.getHandle<typeof pipelineRun>(workflowId);
        const { type } = await handle.describe();
        if (type !== 'pipelineRun')
          throw new Error(
            `${workflowId} is a ${type} workflow, not a pipeline run; watch follows pipeline runs (run IDs such as <pipeline>/<run>).`,
          );
        await followPipelineRun(handle, workflowId.split('/')[0]);
      }),
    );

  program.addCommand(dlqCommand());

  program
    .command('examples')
    .description('list the example pipelines (pipelines/examples): name, file, description')
    .action(() => {
      for (const entry of loadPipelineCatalog().values())
        console.log(`${entry.name}\t${entry.file}\t${entry.description}`);
    });

  program
    .command('verify')
    .description("enter a sign-up's verification code (from its mail; flow signup)")
    .argument('<userId>', 'the user ID of the sign-up')
    .argument('<code>', 'the code from the verification mail')
    .action((userId: string, code: string) =>
      withTemporal(async (client) =>
        console.log(formatVerifyOutcome(userId, await verifySignup(client, userId, code))),
      ),
    );

  program
    .command('status')
    .description("autoscaled queues: backlog, in flight, workers, min/max and the autoscaler's last decisions")
    .option(
      '--config <file>',
      'the autoscaler configuration (default: BATCH_AUTOSCALE_CONFIG or deploy/autoscale.yaml)',
    )
    .action((opts: { config?: string }) =>
      withTemporal(async (client) => console.log(await autoscalerStatusReport(opts.config, client, loadConfig()))),
    );

  program
    .command('retired')
    .description(
      'running executions of the retired workflow types (the first thumbnailer and transcode flow): once all are 0, their code can go (docs/architecture.md)',
    )
    .action(() =>
      withTemporal(async (client) => console.log(formatRetiredReport(await runningRetiredWorkflows(client)))),
    );

  program.addCommand(kafkaCommand());

  return program;
}
