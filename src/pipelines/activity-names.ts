/**
 * Names of the registered stage activities a pipeline stage may run (`activity` of activity and
 * shard stages). Plain data: workflow code and the spec validator import it.
 */
export const stageActivityNames = ['noop', 'annotate', 'fail-when', 'sleep'] as const;

export type StageActivityName = (typeof stageActivityNames)[number];
