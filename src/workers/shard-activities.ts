import { signupActivitiesFor } from '../activities/signup';
import { stageActivities } from '../activities/pipeline';
import type { BatchConfig } from '../infra/config';
import { dataDir } from '../infra/paths';
import { isShardQueueOf } from './shard-queues';

type Activities = Record<string, (...args: never[]) => Promise<unknown>>;

/**
 * What a shard queue's worker runs: the sign-up flow's shards (`<signup queue>-shard-<k>`) send
 * mail and SMS; every other shard queue belongs to a pipeline's shard stage and runs the stage
 * activities.
 */
export function shardQueueActivities(taskQueue: string, config: BatchConfig): Activities {
  return isShardQueueOf(taskQueue, config.signup.queue) ? signupActivitiesFor(config, dataDir) : stageActivities;
}
