/**
 * The sign-up flow's activities (mail and SMS) as a workflow calls them: on one shard's task
 * queue, with explicit timeouts and a retry policy. Deterministic code: activity types only.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { SignupActivities } from '../../activities/signup';

export function signupActivities(taskQueue: string) {
  return proxyActivities<SignupActivities>({
    taskQueue,
    startToCloseTimeout: '1 minute',
    // Workers heartbeat for running activities (src/workers/auto-heartbeat.ts): a killed worker's
    // send is retried on another worker of the shard within 10 s, where the ledger dedupes it.
    heartbeatTimeout: '10 seconds',
    // An SMTP or shard outage is waited out (retries with backoff) for up to a day.
    scheduleToCloseTimeout: '1 day',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '10 minutes',
      // Bad addresses and permanent refusals: retrying cannot help.
      nonRetryableErrorTypes: ['InvalidInput', 'MailRejected', 'SmsRejected'],
    },
  });
}
