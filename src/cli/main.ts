/**
 * The command line: `npm run cli -- <command>`.
 *
 *   run <flow> <inputs...>     one of the hands-on flows (src/cli/flows)
 *   run <spec.yaml|spec.json|example-name> <items.jsonl | --generate N> [--run NAME] [--wait]
 *   watch <workflowId>          re-attach to a pipeline run: progress bar and summary
 *   dlq list <workflowId>       dlq redrive <workflowId>
 *   examples
 *   verify <userId> <code>     a sign-up's verification code (flow signup)
 *
 * Runs go to TEMPORAL_ADDRESS, or to the embedded stack `npm start` keeps up (127.0.0.1:7233).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { connectToTemporal } from '../client/connect';
import { listDeadLetters, redriveDeadLetters } from '../client/dead-letters';
import { pipelineWorkflowId, startPipelineRun } from '../client/pipeline-run';
import { verifySignup } from '../client/signup';
import { PRIORITY_REDRIVE } from '../core/priorities';
import { timestampedRunName } from '../core/run-name';
import { examplesDir, loadPipelineCatalog } from '../pipelines/catalog';
import { loadPipelineSpecFile } from '../pipelines/load';
import { loadConfig, workflowUrl } from '../infra/config';
import { dataDir } from '../infra/paths';
import { isObjectUri, itemReaderOf } from '../sources/item-reader';
import { readPipelineItems } from '../sources/pipeline-items';
import { ItemSource, pipelineRun } from '../workflows/pipeline';
import { autoscalerStatusReport } from './autoscaler-status';
import { findFlow, flows } from './flows';
import { formatVerifyOutcome } from './flows/signup-summary';
import { formatPipelineSummary } from './pipeline-summary';
import { watchPipelineRun } from './watch-run';

const flowUsage = flows.map((f) => `  run ${f.name} ${f.usage}\n      ${f.description}`).join('\n');

const usage = `Usage: npm run cli -- <command>

Hands-on flows:
${flowUsage}

Commands:
  run <pipeline> <items.jsonl>   start a run of a pipeline spec (a .yaml/.json file, or the name of
      [--generate N]             an example in pipelines/examples) on items: a JSON-lines file of
      [--run NAME] [--wait]      {"id": ..., "data": {...}}, or N generated items (--generate N);
      [--items s3://…]           or read in pages by the workers from the object store:
                                 s3://bucket/prefix/ (one item per object), s3://bucket/x.jsonl,
                                 s3://bucket/x.csv (a header row, then one item per row).
                                 --wait shows a live progress bar and the summary; while
                                 Temporal does not answer it waits up to 5 minutes for it.
  watch <workflowId>             re-attach to a pipeline run (e.g. after a CLI gave up waiting
                                 for Temporal): live progress bar, then the summary
  dlq list <workflowId>          a finished run's dead letters: item, stage, attempts, error
  dlq redrive <workflowId>       run them again from the stage they failed at, at a lower
                                 priority than new work (redriving twice starts nothing new)
  examples                       list the example pipelines
  verify <userId> <code>         enter a sign-up's verification code (from its mail; flow signup)
  status [--config FILE]         autoscaled queues: backlog, in flight, workers, min/max and
                                 the autoscaler's last decisions (FILE: deploy/autoscale.yaml)

Environment: TEMPORAL_ADDRESS (default: the embedded stack of npm start at 127.0.0.1:7233).`;

function specPath(name: string): string {
  if (fs.existsSync(name)) return name;
  for (const ext of ['.yaml', '.yml', '.json']) {
    const candidate = path.join(examplesDir, `${name}${ext}`);
    if (fs.existsSync(candidate)) return candidate;
  }
  const known = fs.readdirSync(examplesDir).map((f) => f.replace(/\.(ya?ml|json)$/, ''));
  throw new Error(`No pipeline spec "${name}": pass a .yaml/.json file or one of the examples: ${known.join(', ')}.`);
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value.`);
  args.splice(i, 2);
  return value;
}

async function connect(): Promise<{ client: Client; connection: Connection }> {
  const config = loadConfig();
  const connection = await connectToTemporal(config);
  return { client: new Client({ connection, namespace: config.namespace }), connection };
}

async function runFlowCommand(name: string, args: string[]): Promise<boolean> {
  const flow = findFlow(name);
  if (!flow) return false;
  const config = loadConfig();
  const { client, connection } = await connect();
  try {
    await flow.run(args, { client, config, dataDir, log: (line) => console.log(line) });
  } finally {
    await connection.close();
  }
  return true;
}

async function runCommand(args: string[]): Promise<void> {
  if (args[0] && (await runFlowCommand(args[0], args.slice(1)))) return;
  const wait = args.includes('--wait');
  const rest = args.filter((a) => a !== '--wait');
  const generate = option(rest, '--generate');
  const runName = option(rest, '--run') ?? timestampedRunName('run');
  const itemsOption = option(rest, '--items');
  if (itemsOption !== undefined) rest.push(itemsOption);
  const [specArg, itemsArg, ...extra] = rest;
  if (!specArg || (!itemsArg && !generate) || extra.length > 0) throw new Error(usage);
  const spec = loadPipelineSpecFile(specPath(specArg));
  let source: ItemSource;
  if (generate) {
    const count = Number(generate);
    if (!Number.isInteger(count) || count < 1) throw new Error('--generate needs a whole number ≥ 1.');
    source = { generate: { count } };
  } else if (isObjectUri(itemsArg)) {
    // Read by the item reader on the workers, a page per partition (src/sources/item-reader.ts).
    source = { reader: itemReaderOf(itemsArg) };
  } else {
    source = { items: await readPipelineItems(itemsArg) };
  }
  const config = loadConfig();
  const { client, connection } = await connect();
  try {
    const handle = await startPipelineRun(client, config, spec, source, { runName });
    console.log(`Started ${pipelineWorkflowId(spec.name, runName)}. Web UI: ${workflowUrl(config, handle.workflowId)}`);
    if (wait) await followPipelineRun(handle, spec.name);
  } finally {
    await connection.close();
  }
}

/** Progress bar (one rewritten line on a terminal), then the run's summary. */
async function followPipelineRun(handle: WorkflowHandle<typeof pipelineRun>, pipeline: string): Promise<void> {
  // Other lines (waiting for Temporal) start a new line below the bar.
  const tty = process.stdout.isTTY;
  const result = await watchPipelineRun(handle, (line) => console.log(tty ? `\n${line}` : line), {
    show: tty ? (line) => process.stdout.write(`\r${line}   `) : undefined,
  });
  if (tty) process.stdout.write('\n');
  console.log(formatPipelineSummary(pipeline, result, workflowUrl(loadConfig(), handle.workflowId)));
}

/** `watch <workflowId>`: re-attach to a pipeline run, running or finished. */
async function watchCommand(args: string[]): Promise<void> {
  const [workflowId, ...extra] = args;
  if (!workflowId || extra.length > 0) throw new Error(`watch needs a run's workflow ID.\n\n${usage}`);
  const { client, connection } = await connect();
  try {
    const handle = client.workflow.getHandle<typeof pipelineRun>(workflowId);
    const { type } = await handle.describe();
    if (type !== 'pipelineRun')
      throw new Error(
        `${workflowId} is a ${type} workflow, not a pipeline run; watch follows pipeline runs (run IDs such as <pipeline>/<run>).`,
      );
    await followPipelineRun(handle, workflowId.split('/')[0]);
  } finally {
    await connection.close();
  }
}

async function dlqCommand(args: string[]): Promise<void> {
  const [action, workflowId] = args;
  if (!workflowId || (action !== 'list' && action !== 'redrive')) throw new Error(usage);
  const config = loadConfig();
  const { client, connection } = await connect();
  try {
    if (action === 'list') {
      const letters = await listDeadLetters(client, workflowId);
      if (letters.length === 0) console.log(`${workflowId} has no dead letters.`);
      for (const l of letters) {
        console.log(
          `${l.itemId}\tstage ${l.stage}\t${l.attempts} attempt(s)\t[${l.error.type}] ${l.error.message}\t${JSON.stringify(l.input.data)}`,
        );
      }
      return;
    }
    const handles = await redriveDeadLetters(client, config, workflowId);
    if (handles.length === 0) console.log(`${workflowId} has no dead letters to redrive.`);
    for (const h of handles)
      console.log(
        `Redriving in ${h.workflowId} (priority ${PRIORITY_REDRIVE}). Web UI: ${workflowUrl(config, h.workflowId)}`,
      );
  } finally {
    await connection.close();
  }
}

/** `verify <userId> <code>`: the user's answer to the sign-up flow's verification mail. */
async function verifyCommand(args: string[]): Promise<void> {
  const [userId, code, ...extra] = args;
  if (!userId || !code || extra.length > 0) throw new Error(`verify needs a user ID and a code.\n\n${usage}`);
  const { client, connection } = await connect();
  try {
    console.log(formatVerifyOutcome(userId, await verifySignup(client, userId, code)));
  } finally {
    await connection.close();
  }
}

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  switch (command) {
    case 'run':
      return runCommand(args);
    case 'watch':
      return watchCommand(args);
    case 'dlq':
      return dlqCommand(args);
    case 'verify':
      return verifyCommand(args);
    case 'status': {
      const { client, connection } = await connect();
      try {
        return console.log(await autoscalerStatusReport(args, client, loadConfig()));
      } finally {
        await connection.close();
      }
    }
    case 'examples':
      for (const entry of loadPipelineCatalog().values())
        console.log(`${entry.name}\t${entry.file}\t${entry.description}`);
      return;
    case undefined:
    case '--help':
    case 'help':
      console.log(usage);
      return;
    default:
      throw new Error(`Unknown command "${command}".\n\n${usage}`);
  }
}

main().then(
  // Exit once the command is done: a progress query still in the client's retry timer would
  // otherwise fire on the closed connection ("Channel has been shut down") and fail a finished run.
  () => process.exit(Number(process.exitCode ?? 0)),
  (error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
