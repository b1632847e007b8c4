import { ciMergeFlow } from './ci-merge';
import type { CliFlow } from './flow';
import { imageTaggingFlow } from './image-tagging';
import { signupFlow } from './signup';
import { transcodeFlow } from './transcode';

/** The hands-on flows, in the order `npm start`'s demo runs them (the seeds' order). */
export const flows: CliFlow[] = [transcodeFlow, signupFlow, imageTaggingFlow, ciMergeFlow];

export function findFlow(name: string): CliFlow | undefined {
  return flows.find((f) => f.name === name);
}
