/**
 * The hands-on flows as subscribers of the event router (topics' `flows:` in
 * pipelines/subscriptions.yaml), so the upload tier reaches them: a video that lands in an inbox
 * is transcoded, a sign-up event published to the API starts the sign-up of its user.
 *
 *   transcode: data.path (a file under the input roots) goes into the blob store and run
 *              `transcode/event-<id>` transcodes it; a repeated event finds that run.
 *   signup:    data is the sign-up event (src/core/signup-event.ts); `signup/<userId>` makes
 *              one sign-up per user, however many events name them.
 *   transcode-upload: an S3 object-created notification of the uploads bucket (CatTube,
 *              src/client/bucket-uploads.ts); run `transcode/event-<id>`, one per uploaded content.
 */
import fs from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { type SignupEvent, signupEventExample, signupEventProblems } from '../core/signup-event';
import type { BlobStore } from '../storage/blob-store';
import type { BatchConfig } from '../infra/config';
import { resolveUnderRoots } from '../sources/input-roots';
import { itemIdForPath } from '../sources/item-id';
import { bucketUploadSubscriber } from './bucket-uploads';
import { type FlowSubscriber, UnusableEventError } from './event-router';
import { startSignup } from './signup';
import { submitTranscodeRun, uploadFiles } from './transcode';

/** The flows a topic may list under `flows:`. */
export const subscribableFlows = ['transcode', 'signup', 'transcode-upload'] as const;
export type SubscribableFlow = (typeof subscribableFlows)[number];

export interface FlowSubscriberContext {
  client: Client;
  config: BatchConfig;
  /** Where uploads go: the blob store the video workers read (default `<dataDir>/blobs`). */
  store: BlobStore;
  /** Relative paths in events are resolved against this folder (the project folder). */
  baseDir: string;
}

function transcodeSubscriber({ client, config, store, baseDir }: FlowSubscriberContext): FlowSubscriber {
  return async (event, run) => {
    const requested = event.data.path;
    if (typeof requested !== 'string' || requested === '')
      throw new UnusableEventError(
        `The transcode flow needs data.path, the video file to transcode (e.g. {"path": ".data/inbox/videos/clip.mp4"}); this event has ${requested === undefined ? 'none' : JSON.stringify(requested)}.`,
      );
    const file = await resolveUnderRoots('data.path', requested, config.api.inputRoots, baseDir);
    if (!(await fs.stat(file)).isFile())
      throw new UnusableEventError(
        `The transcode flow needs data.path to be a video file; ${requested} is not a file.`,
      );
    return async () => {
      // Content-addressed: a repeated event stores nothing new before the server refuses its run.
      const uploads = await uploadFiles(store, [{ id: itemIdForPath(file), payload: { path: file } }]);
      const { handle, started } = await submitTranscodeRun(client, config, { runName: run, uploads });
      return { workflowId: handle.workflowId, started };
    };
  };
}

function signupSubscriber({ client, config }: FlowSubscriberContext): FlowSubscriber {
  return async (event, run) => {
    const problems = signupEventProblems(event.data);
    if (problems.length > 0)
      throw new UnusableEventError(
        `The sign-up flow cannot take this event: ${problems.join('; ')}. Send data like ${signupEventExample}.`,
      );
    const { userId, email, name, phone, optIn, preference } = event.data as unknown as SignupEvent;
    const signup: SignupEvent = { userId, email, name, phone, optIn, preference };
    return async () => {
      const { handle, duplicate } = await startSignup(client, config, signup, run);
      return { workflowId: handle.workflowId, started: !duplicate };
    };
  };
}

/** One subscriber per subscribable flow (the type makes sure none is missing). */
export function createFlowSubscribers(ctx: FlowSubscriberContext): Record<SubscribableFlow, FlowSubscriber> {
  return {
    transcode: transcodeSubscriber(ctx),
    signup: signupSubscriber(ctx),
    'transcode-upload': bucketUploadSubscriber(ctx),
  };
}
