/**
 * The project's custom search attributes: how a person finds a run in the Temporal Web UI
 * (e.g. `BatchPipeline = "thumbnailer" AND BatchRun = "demo-…"`). Registered at start-up.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const BatchPipeline = defineSearchAttributeKey('BatchPipeline', SearchAttributeType.KEYWORD);
export const BatchRun = defineSearchAttributeKey('BatchRun', SearchAttributeType.KEYWORD);
export const BatchStage = defineSearchAttributeKey('BatchStage', SearchAttributeType.KEYWORD);

/** Shard task queues a partition sent work to: find every run an outage of one shard touched. */
export const BatchShards = defineSearchAttributeKey('BatchShards', SearchAttributeType.KEYWORD_LIST);

export const allSearchAttributes = [BatchPipeline, BatchRun, BatchStage, BatchShards];

/**
 * The three attributes every run, partition, branch and flow execution carries, in this order
 * (recorded histories hold them so): which pipeline or flow, which run, where it is.
 */
export function runSearchAttributes(pipeline: string, run: string, stage: string) {
  return [
    { key: BatchPipeline, value: pipeline },
    { key: BatchRun, value: run },
    { key: BatchStage, value: stage },
  ];
}
