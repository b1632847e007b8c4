/**
 * The brokers a component that only talks to Kafka (a pipeline's sink, the autoscaler's lag
 * reader) connects to: BATCH_KAFKA_BROKERS, else the broker the project starts on this host
 * (127.0.0.1:BATCH_KAFKA_PORT, 9092 by default).
 */
import { kafkaSettingsFromEnv } from './kafka-config';

export function kafkaBrokers(env: NodeJS.ProcessEnv = process.env): string[] {
  const settings = kafkaSettingsFromEnv(env);
  return settings.brokers.length > 0 ? settings.brokers : [`127.0.0.1:${settings.port}`];
}
