/**
 * The transcode activities as workflow code calls them: on the video task queue, with explicit timeouts and a
 * retry policy. ffmpeg may run for minutes on a long 4K upload, so start-to-close is generous; the worker
 * heartbeats for every running activity, so a dead worker's encode moves elsewhere within the heartbeat timeout.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { TranscodeActivities } from '../../activities/transcode';

export interface TranscodeQueues {
  /** Where the transcode workflows (run, upload, rendition) run. */
  workflow: string;
  /** Where ffprobe and ffmpeg run (the `video` worker role). */
  video: string;
}

const retry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 5,
  // Bad input (not a video, undecodable, a URI outside the blob store) fails at once: retrying cannot help.
  nonRetryableErrorTypes: ['InvalidInput'],
};

/** The activities on `queues.video`; `summary` labels them in the Web UI (e.g. `render 1080p of clip.mp4`). */
export function transcodeActivities(queues: TranscodeQueues, summary?: string) {
  return proxyActivities<TranscodeActivities>({
    taskQueue: queues.video,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '20 seconds',
    retry,
    summary,
  });
}
