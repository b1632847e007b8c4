/**
 * Where the project's Kafka is: BATCH_KAFKA_BROKERS (comma-separated host:port) names a broker
 * already running; otherwise the project starts its own (src/devstack/kafka-broker.ts) on
 * BATCH_KAFKA_PORT / BATCH_KAFKA_CONTROLLER_PORT with its data under the data folder.
 */
import path from 'node:path';
import { dataDir } from '../infra/paths';

export interface KafkaSettings {
  /** Bootstrap brokers, `host:port`; empty when the project is to start its own broker. */
  brokers: string[];
  /** Ports for the broker the project starts (ignored when `brokers` is set). */
  port: number;
  controllerPort: number;
  /** The started broker's folder (git-ignored, under the data folder). */
  dir: string;
  /** The consumer group that starts the subscribed runs. */
  groupId: string;
  /** Where records that can never start anything go, with the reason. */
  deadLetterTopic: string;
}

export const defaultDeadLetterTopic = 'batch.dead-letters';

export function kafkaSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSettings {
  const brokers = (env.BATCH_KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  for (const broker of brokers) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(broker) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(broker)) {
      throw new Error(
        `BATCH_KAFKA_BROKERS: "${broker}" is not host:port; use e.g. BATCH_KAFKA_BROKERS=127.0.0.1:9092.`,
      );
    }
  }
  return {
    brokers,
    port: port(env, 'BATCH_KAFKA_PORT', 9092),
    controllerPort: port(env, 'BATCH_KAFKA_CONTROLLER_PORT', 9093),
    dir: path.join(dataDir, 'kafka'),
    groupId: env.BATCH_KAFKA_GROUP?.trim() || 'batch-router',
    deadLetterTopic: env.BATCH_KAFKA_DEAD_LETTER_TOPIC?.trim() || defaultDeadLetterTopic,
  };
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name}: "${raw}" is not a port; use a number from 1 to 65535.`);
  }
  return value;
}
