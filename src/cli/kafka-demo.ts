/**
 * `npm start -- --kafka`'s proof that topics are on Kafka: one sign-up event published to the
 * `signups` topic (keyed by its user), where it was written (partition, offset), and the run the
 * consumer group started from it (`signup/<userId>`), as a person would check it by hand.
 */
import type { Client } from '@temporalio/client';
import { type BatchConfig, workflowUrl } from '../infra/config';
import { waitFor } from '../infra/wait';
import type { KafkaQueue } from '../client/kafka-routing';
import { signupWorkflowId } from '../workflows/flows/signup';

export const kafkaDemoTopic = 'signups';

export async function kafkaSignupDemo(
  client: Client,
  config: BatchConfig,
  kafka: KafkaQueue,
  runName: string,
  log: (line: string) => void,
): Promise<void> {
  const userId = `kafka-${runName}`;
  const event = {
    id: `signup-${userId}`,
    data: { userId, email: `${userId}@example.test`, optIn: true, preference: 'email' },
  };
  const { partition, offset } = await kafka.publish(kafkaDemoTopic, event);
  log(
    `Kafka: published sign-up event ${event.id} to topic ${kafkaDemoTopic}, partition ${partition}, offset ${offset} ` +
      `(key ${userId}) on ${kafka.brokers.join(',')}.`,
  );
  const handle = client.workflow.getHandle(signupWorkflowId(userId));
  let runId = '';
  await waitFor(
    `the consumer group to start ${handle.workflowId}`,
    async () => {
      try {
        runId = (await handle.describe()).runId;
        return true;
      } catch {
        return false;
      }
    },
    60_000,
    250,
  );
  log(
    `Kafka: the consumer group started ${handle.workflowId} from it: ${workflowUrl(config, handle.workflowId, runId)}`,
  );
}
