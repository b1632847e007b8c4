import { ciMergeFlow } from './ci-merge';
import { transcodeFlow } from './transcode';
import type { CliFlow } from './flow';
import { imageTaggingFlow } from './image-tagging';
import { signupFlow } from './signup';

/** The hands-on flows, in the order `npm start`'s demo runs them. */
export const flows: CliFlow[] = [ciMergeFlow, transcodeFlow, imageTaggingFlow, signupFlow];

export function findFlow(name: string): CliFlow | undefined {
  return flows.find((f) => f.name === name);
}
