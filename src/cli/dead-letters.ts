/** `npm run cli -- dlq list|redrive <workflowId>`: a finished run's dead letters. */
import { listDeadLetters, redriveDeadLetters } from '../client/dead-letters';
import { PRIORITY_REDRIVE } from '../core/priorities';
import { loadConfig, workflowUrl } from '../infra/config';
import { CliCommand } from './command';
import { withTemporal } from './with-temporal';

export function dlqCommand(): CliCommand {
  const dlq = new CliCommand('dlq').description("a finished run's dead letters: list them, or run them again");
  dlq
    .command('list')
    .description("a finished run's dead letters: item, stage, attempts, error, input")
    .argument('<workflowId>', "the run's workflow ID, <pipeline>/<run>")
    .action((workflowId: string) =>
      withTemporal(async (client) => {
        const letters = await listDeadLetters(client, workflowId);
        if (letters.length === 0) console.log(`${workflowId} has no dead letters.`);
        for (const l of letters) {
          console.log(
            `${l.itemId}\tstage ${l.stage}\t${l.attempts} attempt(s)\t[${l.error.type}] ${l.error.message}\t${JSON.stringify(l.input.data)}`,
          );
        }
      }),
    );
  dlq
    .command('redrive')
    .description(
      'run them again from the stage they failed at, at a lower priority than new work (redriving twice starts nothing new)',
    )
    .argument('<workflowId>', "the run's workflow ID, <pipeline>/<run>")
    .action((workflowId: string) =>
      withTemporal(async (client) => {
        const config = loadConfig();
        const handles = await redriveDeadLetters(client, config, workflowId);
        if (handles.length === 0) console.log(`${workflowId} has no dead letters to redrive.`);
        for (const h of handles)
          console.log(
            `Redriving in ${h.workflowId} (priority ${PRIORITY_REDRIVE}). Web UI: ${workflowUrl(config, h.workflowId)}`,
          );
      }),
    );
  return dlq;
}
