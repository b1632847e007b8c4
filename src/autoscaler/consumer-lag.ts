/**
 * A Kafka consumer group's lag, as KEDA's `kafka` scaler reads it: per partition, the end offset
 * minus the group's committed offset, summed. A partition the group never committed counts from
 * the start of the log (offsetResetPolicy earliest, as the router's consumer starts there), so
 * events published before any consumer ran are lag too. Read with the broker's admin API.
 */
import { Admin } from '@platformatic/kafka';
import { errorText } from '../topics/kafka-publisher';

/** Which group and topic a pool scales on (deploy/autoscale.yaml `kafkaLag`; KEDA's trigger metadata). */
export interface LagSource {
  consumerGroup: string;
  /** The topic; absent: every topic the group has committed offsets on. */
  topic?: string;
  /** Unconsumed events one worker process is meant to carry: desired = ceil(lag / this). */
  lagThreshold: number;
}

/** ListOffsets timestamps: the next offset to be written, and the first still kept. */
const latest = -1n;
const earliest = -2n;

export class ConsumerLagReader {
  private admin?: Admin;

  constructor(private readonly brokers: string[]) {}

  /** Events published to the topic(s) and not yet committed by the group. */
  async lag(source: LagSource): Promise<number> {
    const admin = (this.admin ??= new Admin({
      clientId: 'batch-autoscaler',
      bootstrapBrokers: this.brokers,
      timeout: 5000,
      retries: 1,
    }));
    try {
      return await groupLag(admin, source);
    } catch (error) {
      // A broken connection is not reused: the next round connects again.
      this.admin = undefined;
      await admin.close().catch(() => undefined);
      throw new Error(
        `reading the lag of consumer group ${source.consumerGroup}${source.topic ? ` on ${source.topic}` : ''} from Kafka (${this.brokers.join(',')}): ${errorText(error)}`,
        { cause: error },
      );
    }
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.close().catch(() => undefined);
  }
}

async function groupLag(admin: Admin, source: LagSource): Promise<number> {
  const [group] = await admin.listConsumerGroupOffsets({ groups: [source.consumerGroup] });
  const committed = new Map<string, bigint>();
  for (const topic of group?.topics ?? []) {
    for (const p of topic.partitions) committed.set(`${topic.name}/${p.partitionIndex}`, p.committedOffset);
  }
  const topics = source.topic ? [source.topic] : [...new Set((group?.topics ?? []).map((t) => t.name))];
  if (topics.length === 0) return 0;
  const metadata = await admin.metadata({ topics });
  const request = (timestamp: bigint) =>
    topics.map((name) => ({
      name,
      partitions: Array.from({ length: metadata.topics.get(name)?.partitionsCount ?? 0 }, (_, partitionIndex) => ({
        partitionIndex,
        timestamp,
      })),
    }));
  const [ends, starts] = await Promise.all([
    admin.listOffsets({ topics: request(latest) }),
    admin.listOffsets({ topics: request(earliest) }),
  ]);
  const startOf = new Map<string, bigint>();
  for (const t of starts) for (const p of t.partitions) startOf.set(`${t.name}/${p.partitionIndex}`, p.offset);
  let lag = 0n;
  for (const t of ends) {
    for (const p of t.partitions) {
      const key = `${t.name}/${p.partitionIndex}`;
      const start = startOf.get(key) ?? 0n;
      const done = committed.get(key);
      // -1: nothing committed on this partition yet; an offset behind the log start was deleted.
      const from = done === undefined || done < start ? start : done;
      if (p.offset > from) lag += p.offset - from;
    }
  }
  return Number(lag);
}
