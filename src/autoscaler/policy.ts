/**
 * The scaling policy (seeds: "an auto scaling group on queue length"), pure: from what a queue
 * holds (tasks waiting + tasks running) and the pool's limits, how many worker processes it
 * should have, with the reason and the numbers behind it.
 *
 * - desired = ceil((backlog + in flight) / targetBacklogPerWorker), clamped to [min, max];
 *   with min 0 an idle queue needs no worker at all.
 * - Scaling up happens at once: waiting work should not wait for a timer.
 * - Scaling down waits until the pool has had more workers than it needs for a whole cool-down,
 *   without a break, so a short lull does not stop workers that the next wave of tasks needs
 *   again. Stopped workers drain: they finish what they are running.
 * - A pool with `kafkaLag` also counts its consumer group's unconsumed events:
 *   ceil(lag / lagThreshold) workers, and it gets the larger of the two (KEDA's rule for two
 *   triggers), so events waiting in Kafka start workers before they become workflow tasks.
 * - Running tasks count (in flight, from the workers' heartbeats), so a pool whose workers keep
 *   up (backlog 0, all slots busy) keeps them. Unknown in flight (a server without worker
 *   heartbeats) counts as 0: the backlog and the cool-down alone then decide.
 */
import type { PoolLimits } from './config';

export type ScaleAction = 'up' | 'down' | 'hold';

/** Which rule decided: for people reading the log, and to log a run of identical holds once. */
export type ScaleRule = 'below-min' | 'demand' | 'steady' | 'at-max' | 'cool-down' | 'surplus';

export interface QueueObservation {
  /** Tasks waiting for a worker. */
  backlog: number;
  /** Tasks running on workers now; undefined when the server does not report it. */
  inFlight: number | undefined;
  /**
   * Unconsumed events of the pool's Kafka consumer group (`kafkaLag`); undefined when the pool has
   * no lag source or it could not be read (then the task queue alone decides).
   */
  lag?: number;
  /** Worker processes of the pool now (starting or running; draining ones no longer count). */
  workers: number;
  /** Time of the observation (ms since the epoch). */
  at: number;
}

/** What the policy remembers between decisions of one pool. */
export interface PolicyMemory {
  /** Since when the pool has had more workers than it needs, without a break. */
  surplusSince?: number;
}

export interface ScaleDecision {
  action: ScaleAction;
  rule: ScaleRule;
  /** Worker processes before and after. */
  from: number;
  to: number;
  /** Workers the demand alone asks for, before clamping to [min, max]. */
  needed: number;
  backlog: number;
  inFlight: number | undefined;
  /** The consumer group's lag, when the pool scales on one and it was read. */
  lag?: number;
  reason: string;
  at: number;
}

export function decide(
  limits: PoolLimits,
  observation: QueueObservation,
  memory: PolicyMemory,
): { decision: ScaleDecision; memory: PolicyMemory } {
  const { min, max, targetBacklogPerWorker: target, coolDownSeconds, kafkaLag } = limits;
  const { backlog, inFlight, workers, at } = observation;
  const lag = kafkaLag ? observation.lag : undefined;
  const demand = backlog + (inFlight ?? 0);
  const forTasks = Math.ceil(demand / target);
  // Like KEDA with two triggers: the pool gets what the more demanding of them asks for.
  const forLag = kafkaLag && lag !== undefined ? Math.ceil(lag / kafkaLag.lagThreshold) : 0;
  const needed = Math.max(forTasks, forLag);
  const desired = Math.min(max, Math.max(min, needed));
  const tasks =
    inFlight === undefined
      ? `backlog ${backlog} (in flight unknown)`
      : `backlog ${backlog} + in flight ${inFlight} = ${demand}`;
  const workersText = (n: number) => `${n} worker${n === 1 ? '' : 's'}`;
  const lagText = !kafkaLag
    ? ''
    : lag === undefined
      ? `; Kafka lag of ${kafkaLag.consumerGroup} unknown`
      : `; Kafka lag ${lag} (${kafkaLag.consumerGroup}${kafkaLag.topic ? ` on ${kafkaLag.topic}` : ''}) needs ${workersText(forLag)} at ${kafkaLag.lagThreshold}/worker`;
  const need = kafkaLag
    ? `${tasks} needs ${workersText(forTasks)} at ${target}/worker${lagText}`
    : `${tasks} needs ${workersText(needed)} at ${target}/worker`;
  const bounds = `[min ${min}, max ${max}]`;
  const decision = (action: ScaleAction, rule: ScaleRule, to: number, reason: string): ScaleDecision => ({
    action,
    rule,
    from: workers,
    to,
    needed,
    backlog,
    inFlight,
    ...(lag === undefined ? {} : { lag }),
    reason,
    at,
  });

  if (desired > workers) {
    const rule = workers < min && needed <= min ? 'below-min' : 'demand';
    const capped = needed > max ? `, capped at max ${max}` : '';
    return {
      decision: decision(
        'up',
        rule,
        desired,
        `${need}${capped}; have ${workers} ${bounds} → start ${desired - workers}`,
      ),
      memory: {},
    };
  }
  if (desired === workers) {
    const rule = needed > max ? 'at-max' : 'steady';
    const why = needed > max ? `; at max ${max}` : needed < min ? `; kept at min ${min}` : '';
    return {
      decision: decision('hold', rule, workers, `${need}; have ${workers}${why}`),
      memory: {},
    };
  }
  // More workers than needed: stop some once that has lasted a whole cool-down.
  const surplusSince = memory.surplusSince ?? at;
  const quietMs = at - surplusSince;
  const coolDownMs = coolDownSeconds * 1000;
  if (quietMs >= coolDownMs) {
    return {
      decision: decision(
        'down',
        'surplus',
        desired,
        `${need}; have ${workers} ${bounds}, more than needed for ${seconds(quietMs)} ≥ cool-down ${coolDownSeconds} s → stop ${workers - desired} (they drain)`,
      ),
      memory: {},
    };
  }
  return {
    decision: decision(
      'hold',
      'cool-down',
      workers,
      `${need}; have ${workers}, more than needed for ${seconds(quietMs)} of the ${coolDownSeconds} s cool-down`,
    ),
    memory: { surplusSince },
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
