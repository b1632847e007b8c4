import { Client, WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { PRIORITY_REDRIVE } from '../core/priorities';
import type { BatchConfig } from '../infra/config';
import type { DeadLetter } from '../workflows/pipeline-engine';
import type { pipelineRun, PipelineRunResult } from '../workflows/pipeline';
import { startPipelineRun } from './pipeline-run';
import { readResultLines } from '../activities/pipeline/results';

/**
 * Every dead letter of a finished run: a result keeps only a few inline when the run has results
 * parts, which hold them all (each with its input).
 */
async function allDeadLetters(outcome: PipelineRunResult): Promise<DeadLetter[]> {
  if (!outcome.results || outcome.deadLettered <= outcome.deadLetters.length) return outcome.deadLetters;
  const letters: DeadLetter[] = [];
  for await (const line of readResultLines(outcome.results.dir)) {
    if (line.status !== 'deadLettered' || !line.input || !line.error) continue;
    letters.push({
      itemId: line.id,
      stage: line.stage,
      error: line.error,
      attempts: line.attempts ?? 0,
      input: line.input,
    });
  }
  return letters;
}

/**
 * The outcome of a finished pipeline run: its result, or the outcome a run that failed past its
 * tolerated failure percentage carries in its failure details.
 */
export async function finishedRunOutcome(client: Client, workflowId: string): Promise<PipelineRunResult> {
  const handle = client.workflow.getHandle<typeof pipelineRun>(workflowId);
  const { status } = await handle.describe();
  if (status.name === 'RUNNING')
    throw new Error(`Run ${workflowId} is still running; list its dead letters when it has finished.`);
  try {
    return await handle.result();
  } catch (error) {
    const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === 'ToleratedFailureExceeded' && cause.details?.[0]) {
      return cause.details[0] as PipelineRunResult;
    }
    throw error;
  }
}

export async function listDeadLetters(client: Client, workflowId: string): Promise<DeadLetter[]> {
  return allDeadLetters(await finishedRunOutcome(client, workflowId));
}

/**
 * Redrives a run's dead letters: one new run per stage they failed at, entering at that stage,
 * at a lower priority than new work (new work overtakes a backlog of redrives). Workflow IDs
 * are derived from the original run, so redriving twice starts nothing new.
 */
export async function redriveDeadLetters(
  client: Client,
  config: BatchConfig,
  workflowId: string,
): Promise<WorkflowHandle<typeof pipelineRun>[]> {
  const outcome = await finishedRunOutcome(client, workflowId);
  const byStage = new Map<string, DeadLetter[]>();
  for (const letter of await allDeadLetters(outcome))
    byStage.set(letter.stage, [...(byStage.get(letter.stage) ?? []), letter]);
  const handles = [];
  for (const [stage, letters] of byStage) {
    handles.push(
      await startPipelineRun(
        client,
        config,
        outcome.spec,
        { items: letters.map((l) => l.input) },
        { runName: `${outcome.run}-redrive-${stage}`, entry: stage, priority: PRIORITY_REDRIVE },
      ),
    );
  }
  return handles;
}
