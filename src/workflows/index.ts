// The workflow bundle's entry: every workflow a worker of the workflow queue can run.
export { thumbnailer } from './thumbnailer';
export { pipelinePartition, pipelineRun } from './pipeline';
