import { ciMergeFlow } from './ci-merge';
import type { CliFlow } from './flow';
import { imageTaggingFlow } from './image-tagging';
import { signupFlow } from './signup';
import { thumbnailerFlow } from './thumbnailer';
import { transcodeFlow } from './transcode';

/** The hands-on flows `run <flow>` knows, in the seeds' order. */
export const flows: CliFlow[] = [thumbnailerFlow, transcodeFlow, signupFlow, imageTaggingFlow, ciMergeFlow];

/** The flows `npm start`'s demo runs on their demo inputs after its main job, the thumbnailer. */
export const demoFlows: CliFlow[] = flows.filter((flow) => flow !== thumbnailerFlow);

export function findFlow(name: string): CliFlow | undefined {
  return flows.find((f) => f.name === name);
}
