/**
 * The project's own Prometheus metrics, named once for the code that emits them (workflow and
 * activity side), the tests that scrape them and docs/observability.md. Labels stay bounded
 * (pipeline, stage, outcome): run and item IDs belong in logs, not in metric labels.
 */
export const metricNames = {
  /** Counter: items that left a stage; labels pipeline, stage, outcome (`StageItemOutcome`). */
  stageItems: 'batch_stage_items',
  /** Counter: items a run finished, counted as partitions end; labels pipeline, outcome (`PipelineItemOutcome`). */
  pipelineItems: 'batch_pipeline_items',
  /** Histogram (milliseconds): one item's work in a stage activity; labels pipeline, stage, outcome (`ok`, `failed`). */
  stageItemDuration: 'batch_stage_item_duration',
  /** Counter: HTTP API requests answered; labels route (the route's path template, or `unmatched`), method, status. */
  apiRequests: 'batch_api_requests',
  /** Histogram (milliseconds): time to answer an API request; labels route, method. */
  apiRequestDuration: 'batch_api_request_duration',
} as const;

export type StageItemOutcome = 'passed' | 'dropped' | 'dead_lettered';
export type PipelineItemOutcome = 'completed' | 'dropped' | 'dead_lettered';

/** Buckets of the item-duration histogram: stage work ranges from a no-op to minutes of media work. */
export const stageItemDurationBucketsMs = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 120_000];
