// The workflow bundle's entry: every workflow a worker of the workflow queue can run.
export { thumbnailer } from './flows/thumbnailer';
export { pipelinePartition, pipelineRun } from './pipeline';
export { transcode } from './flows/transcode';
export { transcodeUpload } from './flows/transcode-upload';
export { transcodeRendition } from './flows/transcode-rendition';
export { signup } from './flows/signup';
export { signupNotifications, signupWelcome } from './flows/signup-branches';
