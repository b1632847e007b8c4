/**
 * Names of the registered stage activities a pipeline stage may run (`activity` of activity and
 * shard stages). Plain data: workflow code and the spec validator import it.
 */
export const stageActivityNames = [
  'noop',
  'annotate',
  'fail-when',
  'sleep',
  'tag-image',
  'thumbnail-image',
  'build-commit',
  'extract-frame',
  'make-thumbnails',
  'transcode-probe',
  'transcode-render',
  'transcode-manifest',
  'publish-to-topic',
] as const;

export type StageActivityName = (typeof stageActivityNames)[number];

/**
 * Names of the registered report activities a reduce stage's `report` may run: once per run, on
 * the merged aggregate, after every partition is done.
 */
export const reportActivityNames = ['histogram-report', 'contact-sheets'] as const;

export type ReportActivityName = (typeof reportActivityNames)[number];
