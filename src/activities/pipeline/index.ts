import type { StageActivityName } from '../../pipelines/activity-names';
import type { StageActivity } from './types';
import { annotate, failWhen, noop, sleep } from './builtins';

/** Every stage activity a pipeline spec may name, registered by workers under these names. */
export const stageActivities: Record<StageActivityName, StageActivity> = {
  noop,
  annotate,
  'fail-when': failWhen,
  sleep,
};
