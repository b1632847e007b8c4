/**
 * `npm run cli -- run <pipeline> <items.jsonl | --items s3://… | --generate N> [--run NAME] [--wait]`:
 * a run of a pipeline spec (a .yaml/.json file, or the name of an example in pipelines/examples).
 * The hands-on flows are subcommands of the same `run` (src/cli/flows).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipelineWorkflowId, startPipelineRun } from '../client/pipeline-run';
import { loadConfig, workflowUrl } from '../infra/config';
import { examplesDir } from '../pipelines/catalog';
import { closestMatch } from '../pipelines/did-you-mean';
import { loadPipelineSpecFile } from '../pipelines/load';
import { isObjectUri, itemReaderOf } from '../sources/item-reader';
import { readPipelineItems } from '../sources/pipeline-items';
import type { ItemSource } from '../workflows/pipeline';
import { CliCommand, runNameOf, runNameOption, wholeNumber } from './command';
import { flows } from './flows';
import { followPipelineRun } from './follow-run';
import { withTemporal } from './with-temporal';

interface RunOptions {
  generate?: number;
  items?: string;
  run?: string;
  wait?: boolean;
}

/** The spec file `name` stands for: a file, or an example's name; else what to pass instead. */
function specPath(name: string): string {
  if (fs.existsSync(name)) return name;
  for (const ext of ['.yaml', '.yml', '.json']) {
    const candidate = path.join(examplesDir, `${name}${ext}`);
    if (fs.existsSync(candidate)) return candidate;
  }
  const known = fs.readdirSync(examplesDir).map((f) => f.replace(/\.(ya?ml|json)$/, ''));
  const flowNames = flows.map((f) => f.name);
  const match = closestMatch(name, [...flowNames, ...known]);
  throw new Error(
    `No pipeline spec "${name}"${match ? ` (did you mean ${match}?)` : ''}: pass a .yaml/.json file, one of the examples ` +
      `(${known.join(', ')}) or a flow (${flowNames.join(', ')}).`,
  );
}

/** Where the run's items come from: a JSON-lines file here, an s3:// URI read by the workers, or N generated. */
async function itemSource(itemsArg: string | undefined, opts: RunOptions): Promise<ItemSource> {
  if (opts.generate !== undefined) return { generate: { count: opts.generate } };
  const items = itemsArg ?? opts.items;
  if (items === undefined)
    throw new Error(
      'run needs items: a JSON-lines file of {"id", "data"} lines, --items s3://…, or --generate N. See: npm run cli -- run --help',
    );
  // Read by the item reader on the workers, a page per partition (src/sources/item-reader.ts).
  if (isObjectUri(items)) return { reader: itemReaderOf(items) };
  return { items: await readPipelineItems(items) };
}

/** `run`: a pipeline spec's run; each hands-on flow is a subcommand (added by the caller). */
export function pipelineRunCommand(): CliCommand {
  return new CliCommand('run')
    .description('start a run of a pipeline spec on items, or of a hands-on flow (the commands below)')
    .usage('<flow> [arguments] | <pipeline> [items.jsonl] [options]')
    .enablePositionalOptions()
    .argument('<pipeline>', 'a spec file (.yaml/.json), or the name of an example in pipelines/examples')
    .argument(
      '[items]',
      'a JSON-lines file of {"id": ..., "data": {...}}, or an s3:// URI the workers read in pages: s3://bucket/prefix/ ' +
        '(one item per object), s3://bucket/x.jsonl, s3://bucket/x.csv (a header row, then one item per row)',
    )
    .option('--items <uri>', 'the items as an s3:// URI (as the argument)')
    .option('--generate <count>', 'N generated items instead of a file', wholeNumber(1))
    .addOption(runNameOption('run', 'run name; workflow ID <pipeline>/<name>'))
    .option(
      '--wait',
      'show a live progress bar, then the summary; while Temporal does not answer, wait up to 5 minutes',
    )
    .action(async (pipeline: string, itemsArg: string | undefined, opts: RunOptions) => {
      const spec = loadPipelineSpecFile(specPath(pipeline));
      const source = await itemSource(itemsArg, opts);
      const runName = runNameOf(opts, 'run');
      const config = loadConfig();
      await withTemporal(async (client) => {
        const handle = await startPipelineRun(client, config, spec, source, { runName });
        console.log(
          `Started ${pipelineWorkflowId(spec.name, runName)}. Web UI: ${workflowUrl(config, handle.workflowId)}`,
        );
        if (opts.wait) await followPipelineRun(handle, spec.name);
      });
    }) as CliCommand;
}
