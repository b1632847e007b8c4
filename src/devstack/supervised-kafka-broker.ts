/**
 * The project's Kafka broker as a supervised process of `npm start -- --kafka` (and the plan the
 * cluster command uses): SIGKILLed or crashed, it is started again on the same ports over the same
 * folder, so topics, records and committed offsets are all there and clients reconnect to the same
 * address (the publisher fails fast meanwhile; the consumer group joins again).
 */
import path from 'node:path';
import { type KafkaSettings } from '../topics/kafka-config';
import { type KafkaBroker, startKafkaBroker } from './kafka-broker';
import { Supervisor } from './supervisor';
import { portOpen, waitFor } from '../infra/wait';

/** The broker the stack starts: its folder (`data/`, `server.properties`, `broker.log`) and ports. */
export interface KafkaBrokerPlan {
  dir: string;
  port: number;
  controllerPort: number;
}

/** The plan from BATCH_KAFKA_PORT / BATCH_KAFKA_CONTROLLER_PORT and `<dataDir>/kafka`. */
export const kafkaBrokerPlan = (settings: KafkaSettings): KafkaBrokerPlan => ({
  dir: settings.dir,
  port: settings.port,
  controllerPort: settings.controllerPort,
});

export interface SupervisedKafkaBroker {
  /** The broker running now (a restart replaces it; the address stays). */
  readonly current: KafkaBroker;
  /** `127.0.0.1:<port>`. */
  readonly bootstrap: string;
  stop(): Promise<void>;
}

/** Starts the broker on the plan's ports, or waits for a killed one's ports to close first. */
export function kafkaBrokerStarter(
  plan: KafkaBrokerPlan,
  log: (line: string) => void,
  onStarted: (broker: KafkaBroker) => void,
): () => Promise<KafkaBroker> {
  let first = true;
  return async () => {
    if (!first) {
      const free = async () => !(await portOpen(plan.port)) && !(await portOpen(plan.controllerPort));
      await waitFor(`ports ${plan.port} and ${plan.controllerPort} to be free`, free, 30_000);
    }
    first = false;
    const broker = await startKafkaBroker({ ...plan, log });
    onStarted(broker);
    return broker;
  };
}

export async function startSupervisedKafkaBroker(
  plan: KafkaBrokerPlan,
  log: (line: string) => void,
  onGiveUp: (message: string) => void,
): Promise<SupervisedKafkaBroker> {
  let broker: KafkaBroker | undefined;
  const start = kafkaBrokerStarter(plan, log, (b) => (broker = b));
  log(`Starting the Kafka broker on 127.0.0.1:${plan.port} (controller ${plan.controllerPort}) over ${plan.dir}...`);
  const supervisor = await Supervisor.start({
    name: 'the Kafka broker',
    logFile: path.join(plan.dir, 'broker.log'),
    log,
    onGiveUp,
    start: async () => (await start()).process,
  });
  return {
    get current() {
      return broker!;
    },
    bootstrap: `127.0.0.1:${plan.port}`,
    // The broker flushes and closes its log segments on SIGTERM; give it the broker's own grace.
    stop: () => supervisor.stop(15_000),
  };
}
