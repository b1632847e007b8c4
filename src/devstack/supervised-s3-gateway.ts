/**
 * The project's S3 gateway as a supervised process of `npm start -- --s3` and `npm run cluster --
 * --s3`: SIGKILLed or crashed, it is started again on the same port over the same folder with the
 * same credentials (credentials.json), so workers' retries find every object where it was.
 */
import { defaultUploadsBucket, S3EventsOptions, S3Gateway, startS3Gateway } from './s3-gateway';
import type { GatewayPlan } from './stack-storage';
import { Supervisor } from './supervisor';
import { portOpen, waitFor } from '../infra/wait';

export interface SupervisedS3Gateway {
  /** The gateway running now (a restart replaces it; endpoint, bucket and credentials stay). */
  readonly current: S3Gateway;
  stop(): Promise<void>;
}

export async function startSupervisedS3Gateway(
  plan: GatewayPlan,
  log: (line: string) => void,
  onGiveUp: (message: string) => void,
  /** Bucket notifications to Kafka (`npm start -- --s3 --kafka`): see S3EventsOptions. */
  options: { events?: S3EventsOptions } = {},
): Promise<SupervisedS3Gateway> {
  let gateway: S3Gateway | undefined;
  let first = true;
  const start = async () => {
    if (!first) {
      // A killed gateway's port may take a moment to close.
      await waitFor(`port ${plan.port} to be free`, async () => !(await portOpen(plan.port)), 30_000);
    }
    first = false;
    gateway = await startS3Gateway({
      dir: plan.dir,
      port: plan.port,
      buckets: [plan.bucket],
      log,
      events: options.events,
    });
    return gateway.process;
  };
  const notified = options.events
    ? `; uploads to bucket ${options.events.uploadsBucket ?? defaultUploadsBucket} are notified to Kafka topic ${options.events.topic}`
    : '';
  log(
    `Starting the S3 gateway (Versity) on http://127.0.0.1:${plan.port} over ${plan.dir}, bucket ${plan.bucket}${notified}...`,
  );
  const supervisor = await Supervisor.start({
    name: 'the S3 gateway',
    logFile: `${plan.dir}/gateway.log`,
    log,
    onGiveUp,
    start,
  });
  return {
    get current() {
      return gateway!;
    },
    stop: () => supervisor.stop(),
  };
}
